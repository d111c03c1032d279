"""Vector environments: K copies give exactly the transitions of K separate environments seeded seed + k."""

import numpy as np
import pytest

from keras_ip.envs import CoordinationGame
from keras_ip.envs.adapter import ParallelEnvAdapter
from keras_ip.envs.particles import CooperativeNavigation
from keras_ip.envs.vector import ParticleVector, ProcessVector, vector_env

SEED = 11


def run_vector(vector, actions):
    """(observations after reset, then every step's results) of a vector env under the given actions."""
    steps = [vector.reset(seed=SEED)]
    for joint in actions:
        steps.append(vector.step(joint))
    return steps


def run_separately(make_env, actions):
    """The same, with K separate environments seeded SEED + k, stacked."""
    adapters = [ParallelEnvAdapter(make_env()) for _ in range(actions.shape[1])]
    steps = [np.stack([a.reset(seed=SEED + k) for k, a in enumerate(adapters)])]
    for joint in actions:
        results = [a.step(action) for a, action in zip(adapters, joint)]
        steps.append(tuple(np.stack([r[i] for r in results]) for i in range(4))
                     + (np.array([a.episode_over for a in adapters]),))
    return steps


@pytest.mark.parametrize("make_env, vector_type", [
    (lambda: CooperativeNavigation(n=5, max_cycles=6), ParticleVector),
    (lambda: CoordinationGame(rows=2, cols=2), ProcessVector)], ids=["particles-native", "pettingzoo-processes"])
def test_four_copies_give_the_transitions_of_four_separately_seeded_environments(make_env, vector_type):
    env = make_env()
    adapter = ParallelEnvAdapter(env)
    rng = np.random.default_rng(0)
    episode = 6 if vector_type is ParticleVector else 1
    actions = np.stack([[adapter.random_actions(rng) for _ in range(4)] for _ in range(episode)])  # [T, K, N]
    vector = vector_env(env, 4)
    try:
        assert isinstance(vector, vector_type)
        together, apart = run_vector(vector, actions), run_separately(make_env, actions)
    finally:
        vector.close()
    np.testing.assert_array_equal(together[0], apart[0])
    for step_together, step_apart in zip(together[1:], apart[1:]):
        for a, b in zip(step_together, step_apart):
            np.testing.assert_array_equal(a, b)
    assert together[-1][4].all()  # every copy's episode is over


def test_worker_copies_reset_on_their_own():
    vector = vector_env(CoordinationGame(rows=2, cols=2), 3)
    try:
        first = vector.reset(seed=0)
        vector.step(np.ones((3, 4), int))
        again = vector.reset_copies(np.array([True, False, True]), seed=5)
        assert again.shape == first.shape == (3, 4, 1)
    finally:
        vector.close()


def test_particle_copies_share_one_clock():
    vector = vector_env(CooperativeNavigation(n=3, max_cycles=2), 2)
    with pytest.raises(ValueError, match="reset together"):
        vector.reset_copies(np.array([True, False]))
