"""`predict` on what the environment gives: its observation dict in, the action dict `env.step` takes out."""

import numpy as np
import pytest

from keras_ip import IPAgent, make_env
from keras_ip.baselines import DGNAgent
from keras_ip.graphs import KNN

TINY = dict(units=8, batch_size=16, learning_starts=8, train_freq=4, gradient_steps=1, buffer_size=200,
            jit_compile=False, seed=0)
NAVIGATION = dict(n=4, max_cycles=6)


@pytest.fixture(scope="module")
def coordination_agent():
    return IPAgent("coordination", env_kwargs={"rows": 2, "cols": 2}, **TINY).fit(16, progress_bar=False)


def test_predict_takes_the_reset_dict_and_returns_what_step_takes(coordination_agent):
    env = make_env("coordination", rows=2, cols=2)
    observations, _ = env.reset(seed=0)
    actions = coordination_agent.predict(observations)
    assert set(actions) == set(env.agents) and all(type(a) is int for a in actions.values())
    stacked = np.stack([observations[a] for a in env.possible_agents])
    assert [actions[a] for a in env.possible_agents] == coordination_agent.predict(stacked).tolist()
    env.step(actions)


def test_agents_absent_from_the_dict_get_no_action(coordination_agent):
    observations, _ = make_env("coordination", rows=2, cols=2).reset(seed=0)
    del observations["agent_2"]
    assert set(coordination_agent.predict(observations)) == {"agent_0", "agent_1", "agent_3"}


@pytest.mark.parametrize("observations, message", [
    ({"agent_9": np.ones(1, np.float32)}, r"agents this environment does not have: \['agent_9'\]"),
    ({"agent_0": np.ones(3, np.float32)}, "has 3 values; its space has 1"),
    ({"agent_0": np.array([np.nan], np.float32)}, "NaN"),
])
def test_bad_observation_dicts_are_named(coordination_agent, observations, message):
    with pytest.raises(ValueError, match=message):
        coordination_agent.predict(observations)


def test_continuous_actions_come_back_shaped_like_the_action_space():
    agent = IPAgent("cooperative_navigation", env_kwargs=dict(NAVIGATION, continuous=True), graph="full", **TINY)
    env = make_env("cooperative_navigation", continuous=True, **NAVIGATION)
    observations, _ = env.reset(seed=0)
    actions = agent.predict(observations)
    space = env.action_space("agent_0")
    assert all(a.shape == space.shape and a.dtype == space.dtype and space.contains(a) for a in actions.values())
    env.step(actions)


@pytest.mark.parametrize("cls", [IPAgent, DGNAgent])
def test_a_knn_agent_acts_in_a_users_loop_with_env(cls):
    agent = cls("cooperative_navigation", env_kwargs=NAVIGATION, graph="knn", k=2, **TINY).fit(8, progress_bar=False)
    env = make_env("cooperative_navigation", **NAVIGATION)
    observations, _ = env.reset(seed=1)
    with pytest.raises(ValueError, match="pass env="):
        agent.predict(observations)
    steps = 0
    while env.agents:
        actions = agent.predict(observations, env=env)
        positions = env.agent_positions()
        graph = KNN(2).build(positions)
        stacked = np.stack([observations[a] for a in env.possible_agents])
        assert [actions[a] for a in env.possible_agents] == agent.predict(stacked, graph=graph).tolist()
        assert agent.predict(observations, positions=positions) == actions
        observations, *_ = env.step(actions)
        steps += 1
    assert steps == NAVIGATION["max_cycles"]


def test_positions_must_match_the_agents():
    agent = IPAgent("cooperative_navigation", env_kwargs=NAVIGATION, graph="knn", k=2, **TINY)
    observations, _ = make_env("cooperative_navigation", **NAVIGATION).reset(seed=0)
    with pytest.raises(ValueError, match=r"positions must be finite floats of shape \(4, 2\)"):
        agent.predict(observations, positions=np.zeros((3, 2)))
