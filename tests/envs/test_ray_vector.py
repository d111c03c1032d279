"""RayVector: K copies on Ray actors give the transitions of K separately seeded environments,
and a copy whose actor dies is restarted and reported lost, never made up."""

import copy
import sys
import time

import numpy as np
import pytest

ray = pytest.importorskip("ray", reason='RayVector needs Ray: pip install "keras-ip[distributed]"')

from keras_ip import make_env  # noqa: E402
from keras_ip.envs.adapter import ParallelEnvAdapter  # noqa: E402
from keras_ip.envs.ray_vector import RayVector  # noqa: E402
from keras_ip.envs.vector import ProcessVector, answer, stack_steps  # noqa: E402

SEED = 7
MAJORITY_VOTE = dict(rows=2, cols=3, max_cycles=6)


class SeparateCopies:
    """The reference: K separate environments in this process, each seeded seed + k, behind the vector API."""

    def __init__(self, make, num_envs):
        self.adapters = [ParallelEnvAdapter(make()) for _ in range(num_envs)]
        self._latest = [None] * num_envs

    def reset(self, seed=None):
        return self.reset_copies(np.ones(len(self.adapters), bool), seed)

    def reset_copies(self, over, seed=None):
        self._latest = [answer(a, "reset", None if seed is None else seed + k) if done else old
                        for k, (a, done, old) in enumerate(zip(self.adapters, over, self._latest))]
        return np.stack(self._latest)

    def step(self, actions):
        results = [answer(a, "step", action) for a, action in zip(self.adapters, actions)]
        self._latest = [r[0] for r in results]
        return stack_steps(results)

    def positions(self):
        positions = [a.positions() for a in self.adapters]
        return None if positions[0] is None else np.stack(positions)

    def close(self):
        for adapter in self.adapters:
            adapter.env.close()


def random_actions(make, num_envs, steps):
    """int [steps, K, N] random valid actions."""
    adapter, rng = ParallelEnvAdapter(make()), np.random.default_rng(0)
    return np.stack([[adapter.random_actions(rng) for _ in range(num_envs)] for _ in range(steps)])


def drive(vector, actions):
    """Everything a vector returns under `actions`, resetting copies whose episode is over (and copy 0 alone
    after the second step) the way the collector does."""
    record = [vector.reset(seed=SEED), vector.positions()]
    for t, joint in enumerate(actions):
        results = vector.step(joint)
        record += [*results, vector.positions()]
        over = results[4].copy()
        over[0] |= t == 1
        if over.any():
            record += [vector.reset_copies(over, seed=SEED + 10 * (t + 1)), vector.positions()]
    return record


def kill(actor):
    """Kills a Ray actor and waits until calls to it fail (`ray.kill` only sends the request)."""
    ray.kill(actor)
    for _ in range(100):
        try:
            ray.get(actor.__ray_ready__.remote(), timeout=10)
        except ray.exceptions.RayActorError:
            return
        time.sleep(0.1)
    pytest.fail(f"The actor {actor} still answers after ray.kill.")


def assert_records_equal(record, expected):
    assert len(record) == len(expected)
    for got, want in zip(record, expected):
        if want is None:
            assert got is None
        else:
            assert np.array_equal(got, want)


@pytest.mark.parametrize("name, kwargs, num_envs, envs_per_worker, reference", [
    ("majority_vote", MAJORITY_VOTE, 3, 2, "processes"),
    ("cooperative_navigation", dict(n=3, max_cycles=5), 2, 2, "separate")],
    ids=["majority_vote-3-copies-on-2-actors", "cooperative_navigation-positions"])
def test_same_seeds_give_the_transitions_of_process_vector_or_separate_envs(local_ray, name, kwargs, num_envs,
                                                                           envs_per_worker, reference):
    make = lambda: make_env(name, **kwargs)  # noqa: E731
    actions = random_actions(make, num_envs, steps=9)  # more steps than an episode
    vector = RayVector(make(), num_envs, envs_per_worker=envs_per_worker)
    expected_vector = (ProcessVector([make() for _ in range(num_envs)]) if reference == "processes"
                       else SeparateCopies(make, num_envs))
    try:
        record, expected = drive(vector, actions), drive(expected_vector, actions)
        assert not vector.lost.any()
    finally:
        vector.close()
        expected_vector.close()
    assert_records_equal(record, expected)


def test_a_killed_actor_is_restarted_and_its_copy_reported_lost(local_ray):
    make = lambda: make_env("majority_vote", **MAJORITY_VOTE)  # noqa: E731
    actions = random_actions(make, 2, steps=6)
    vector, reference = RayVector(make, num_envs=2), SeparateCopies(make, 2)  # a factory this time
    try:
        assert np.array_equal(vector.reset(seed=SEED), reference.reset(seed=SEED))
        assert not vector.lost.any()
        for got, want in zip(vector.step(actions[0]), reference.step(actions[0])):
            assert np.array_equal(got, want)
        kill(vector.actors[1])
        with pytest.warns(RuntimeWarning, match=r"copies \[1\] died \(ActorDiedError.*seeds \[8\]"):
            observations, rewards, terminated, truncated, over = vector.step(actions[1])
        expected = reference.step(actions[1])
        assert vector.lost.tolist() == [False, True] and over[1]
        for got, want in zip((observations, rewards, terminated, truncated, over), expected):
            assert np.array_equal(got[0], want[0])  # the surviving copy's transition, exactly
        assert np.array_equal(observations[1], ParallelEnvAdapter(make()).reset(seed=SEED + 1))
        assert rewards[1].sum() == 0 and not terminated[1].any() and not truncated[1].any()

        fresh = np.array([False, True])
        assert np.array_equal(vector.reset_copies(fresh, seed=SEED), reference.reset_copies(fresh, seed=SEED))
        for joint in actions[2:4]:  # back to normal
            for got, want in zip(vector.step(joint), reference.step(joint)):
                assert np.array_equal(got, want)
            assert not vector.lost.any()

        kill(vector.actors[0])  # found dead outside step: reported lost at the next step, not stepped
        with pytest.warns(RuntimeWarning, match=r"copies \[0\] died"):
            assert vector.positions() is None
        results = vector.step(actions[4])
        assert vector.lost.tolist() == [True, False] and results[4][0]
        assert np.array_equal(results[0][0], ParallelEnvAdapter(make()).reset(seed=SEED))
        expected = reference.step(actions[4])
        assert all(np.array_equal(got[1], want[1]) for got, want in zip(results, expected))
    finally:
        vector.close()
        vector.close()  # twice is fine


def test_sumo_traffic_copies_on_actors_match_separately_seeded_envs(local_ray):
    pytest.importorskip("libsumo", reason='SUMO is an extra: pip install "keras-ip[traffic]"')
    env = make_env("traffic", grid=2, max_cycles=4)
    actions = np.zeros((4, 2, len(env.possible_agents)), int)
    actions[1::2] = 1
    vector = RayVector(copy.deepcopy(env), num_envs=2)  # one libsumo simulation per actor process
    try:
        record = [vector.reset(seed=SEED)] + [vector.step(joint) for joint in actions]
    finally:
        vector.close()
    for k in range(2):  # libsumo runs one simulation per process: the local references one after the other
        adapter = ParallelEnvAdapter(make_env("traffic", grid=2, max_cycles=4))
        assert np.array_equal(record[0][k], adapter.reset(seed=SEED + k))
        for results, joint in zip(record[1:], actions):
            expected = answer(adapter, "step", joint[k])
            assert all(np.array_equal(got[k], want) for got, want in zip(results, expected))
        assert record[-1][4][k]
        adapter.env.close()


@pytest.mark.parametrize("kwargs, match", [
    (dict(num_envs=0), "num_envs=0"),
    (dict(num_envs=2, envs_per_worker=0), "envs_per_worker=0"),
    (dict(num_envs=2, envs_per_worker=3), "envs_per_worker=3")])
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        RayVector(make_env("coordination", rows=2, cols=2), **kwargs)


def test_an_env_that_is_neither_an_environment_nor_a_factory_is_named():
    with pytest.raises(TypeError, match="Received: env=42"):
        RayVector(42, num_envs=2)


def test_missing_ray_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # what `import ray` sees when it is not installed
    with pytest.raises(ImportError, match=r'pip install "keras-ip\[distributed\]"'):
        RayVector(make_env("coordination", rows=2, cols=2), num_envs=2)
