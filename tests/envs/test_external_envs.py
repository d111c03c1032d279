"""The adapter and IPAgent on third-party PettingZoo environments: mpe2 and magent2."""

import numpy as np
import pytest

from keras_ip import IPAgent
from keras_ip.envs import from_pettingzoo

mpe2 = pytest.importorskip("mpe2")
magent2 = pytest.importorskip("magent2")
from magent2.environments import battle_v4, gather_v5  # noqa: E402
from mpe2 import simple_adversary_v3, simple_spread_v3  # noqa: E402

TINY = dict(units=16, batch_size=8, learning_starts=4, train_freq=4, gradient_steps=1, buffer_size=100,
            jit_compile=False, seed=0)


def test_mpe2_simple_spread_positions_and_training_on_knn():
    env = simple_spread_v3.parallel_env(N=4, max_cycles=5)
    adapter = from_pettingzoo(env)
    obs = adapter.reset(seed=0)
    assert obs.shape == (4, 24) and adapter.group_names == ["agent"]
    expected = np.array([a.state.p_pos for a in env.unwrapped.world.agents])
    np.testing.assert_allclose(adapter.positions(), expected)
    agent = IPAgent(adapter, graph="knn", k=2, **TINY).fit(12, progress_bar=False)
    assert agent.num_updates > 0 and agent.replay.sample(4).senders.shape == (4, 8)  # k-NN graphs, 4 x 2 edges


def test_mpe2_heterogeneous_groups_get_their_own_encoders():
    env = simple_adversary_v3.parallel_env(N=2, max_cycles=5, continuous_actions=True)
    agent = IPAgent(env, graph="full", **TINY)
    assert agent.adapter.group_names == ["adversary", "agent"] and agent.adapter.group_obs_dims == [8, 10]
    first = agent.networks.actor.propagation.encoder[0]
    # [groups, padded obs 10 + the degree input, units]
    assert type(first).__name__ == "GroupedDense" and first.kernel.shape == (2, 10 + 1, 16)
    agent.fit(12, progress_bar=False)
    actions = agent.predict(agent.adapter.reset(seed=1))
    assert actions.shape == (3, 5) and np.all((actions >= 0) & (actions <= 1))


def test_magent2_battle_positions_come_from_the_engine_through_an_episode():
    """(Masking of agents that leave mid-episode is tested with a fake env in test_adapter.py:
    random play on a small battle map produced no deaths in 300 steps.)"""
    env = battle_v4.parallel_env(map_size=12, max_cycles=20)
    adapter = from_pettingzoo(env)
    adapter.reset(seed=0)
    assert adapter.group_names == ["red", "blue"] and adapter.num_actions == 21
    engine, rng, steps = env.unwrapped.env, np.random.default_rng(0), 0
    while not adapter.episode_over:
        for handle in env.unwrapped.handles:
            np.testing.assert_array_equal(adapter.positions()[engine.get_agent_id(handle)], engine.get_pos(handle))
        _, rewards, _, truncated, _ = adapter.step(adapter.random_actions(rng))
        steps += 1
        assert np.all(np.isfinite(rewards))
    assert steps == 20 and truncated.all()


def test_magent2_gather_trains_with_a_knn_graph():
    env = gather_v5.parallel_env(max_cycles=3)
    agent = IPAgent(env, graph="knn", k=4, **dict(TINY, batch_size=2, learning_starts=2, train_freq=2))
    agent.fit(4, progress_bar=False)
    assert agent.adapter.num_agents == 495 and agent.adapter.obs_dim == 15 * 15 * 5
    assert agent.replay.sample(4).senders.shape == (4, 495 * 4) and agent.num_updates > 0
