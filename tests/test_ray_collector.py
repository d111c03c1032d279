"""`collector="ray"` as a user runs it: IPAgent's transitions from Ray actors equal the local
collector's for the same seeds, and an actor killed mid-episode costs that copy one step's
transition and nothing else."""

import numpy as np
import pytest

import keras_ip
from keras_ip.experiments.algorithms import ALGORITHMS

ray = pytest.importorskip("ray", reason='Ray is an extra: pip install "keras-ip[distributed]"')

AGENT = dict(env_kwargs={"rows": 2, "cols": 3, "max_cycles": 5}, units=8, batch_size=8, learning_starts=6, buffer_size=1000,
             train_freq=10**6, jit_compile=False, seed=3, n_envs=2)


def replay_contents(agent) -> list:
    """Each stream's arrays (observations, actions, rewards, ...) as numpy."""
    return [{name: value for name, value in buffer.state_dict().items() if isinstance(value, np.ndarray)}
            for buffer in agent.replay.buffers]


def test_ray_collector_gives_the_local_transitions_and_survives_a_killed_actor(local_ray):
    """One agent per collector (Ray actors take seconds to start): the same seeds give the same replay;
    then actor 1 is killed mid-episode and its copy loses exactly one step's transition."""
    agents = {kind: keras_ip.IPAgent("majority_vote", collector=kind, **AGENT) for kind in ("local", "ray")}
    for agent in agents.values():
        agent.fit(24, progress_bar=False)  # random actions, then policy actions; episodes of 5 steps
    local, remote = (replay_contents(agents[kind]) for kind in ("local", "ray"))
    assert len(local) == len(remote) == 2 and all(len(ours["rewards"]) for ours in local)
    for ours, theirs in zip(local, remote):
        assert ours.keys() == theirs.keys()
        for name in ours:
            np.testing.assert_array_equal(ours[name], theirs[name], err_msg=name)
    agents["local"].close()

    agent = agents["ray"]
    agent.fit(2, progress_bar=False)  # mid-episode
    vector = agent._collector.vector  # pylint: disable=protected-access
    before, start = [len(buffer) for buffer in agent.replay.buffers], agent.num_timesteps
    ray.kill(vector.actors[1])
    with pytest.warns(RuntimeWarning, match=r"\[1\]"):
        for _ in range(50):  # ray.kill is asynchronous: step until the death is seen
            agent.fit(2, progress_bar=False)
            if vector.lost.any():
                break
    steps = (agent.num_timesteps - start) // 2
    after = [len(buffer) for buffer in agent.replay.buffers]
    assert after[0] - before[0] == steps and after[1] - before[1] == steps - 1
    agent.fit(12, progress_bar=False)  # collection goes on on both copies
    assert [len(buffer) for buffer in agent.replay.buffers] == [after[0] + 6, after[1] + 6]
    agent.close()


OTHER_LEARNERS = sorted(name for name, algorithm in ALGORITHMS.items() if algorithm.learns and name != "ip")
TINY = dict(units=8, batch_size=8, buffer_size=500, learning_starts=6, train_freq=10**6, jit_compile=False, hops=1,
            conv_layers=1, heads=1, n_envs=2)  # each algorithm takes the ones it has


@pytest.mark.parametrize("algorithm_name", OTHER_LEARNERS)
def test_every_learner_collects_the_same_transitions_on_ray(local_ray, algorithm_name):
    """Each registered learner, built as an experiment spec builds it with `collector` among its
    hyperparameters, fills the same replay from Ray actors as from the local collector."""
    algorithm = ALGORITHMS[algorithm_name]
    assert "collector" in algorithm.hyperparameter_names()
    settings = {name: value for name, value in TINY.items() if name in algorithm.hyperparameter_names()}
    contents = {}
    for kind in ("local", "ray"):
        agent = algorithm.make("majority_vote", AGENT["env_kwargs"], 3, {**settings, **algorithm.defaults, "collector": kind})
        try:
            agent.fit(16, progress_bar=False)  # random actions, then the policy's; episodes of 5 steps
            if kind == "ray":
                assert type(agent._collector.vector).__name__ == "RayVector"  # pylint: disable=protected-access
            contents[kind] = replay_contents(agent)
        finally:
            agent.close()
    assert len(contents["local"]) == len(contents["ray"]) == 2
    for ours, theirs in zip(contents["local"], contents["ray"]):
        assert ours.keys() == theirs.keys() and len(ours["rewards"])
        for name in ours:
            np.testing.assert_array_equal(ours[name], theirs[name], err_msg=name)
