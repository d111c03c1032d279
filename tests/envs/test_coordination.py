"""CoordinationGame: PettingZoo API, seeding, hand-worked rewards, episode length, errors."""

import warnings

import numpy as np
import pytest
from pettingzoo.test import parallel_api_test, parallel_seed_test

from keras_ip.envs import CoordinationGame
from keras_ip.graphs import grid


def play(env, actions):
    """Resets `env`, plays one step with `actions` (a list in agent order), returns step's tuple."""
    env.reset(seed=0)
    return env.step(dict(zip(env.possible_agents, actions)))


def reward_list(rewards, env):
    return [rewards[agent] for agent in env.possible_agents]


@pytest.mark.parametrize("continuous", [False, True])
@pytest.mark.parametrize("max_cycles", [1, 5])
def test_parallel_api(continuous, max_cycles):
    env = CoordinationGame(continuous=continuous, max_cycles=max_cycles)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        parallel_api_test(env, num_cycles=max_cycles)  # also sets env.max_cycles = num_cycles
    assert env.agents == []


@pytest.mark.parametrize("continuous", [False, True])
def test_parallel_seed(continuous):
    parallel_seed_test(lambda: CoordinationGame(rows=2, cols=3, continuous=continuous, max_cycles=4), num_cycles=4)


def test_reset_seed_makes_action_samples_repeat():
    env = CoordinationGame(continuous=True)

    def samples(seed):
        env.reset(seed=seed)
        return np.concatenate([env.action_space(agent).sample() for agent in env.possible_agents])

    np.testing.assert_array_equal(samples(7), samples(7))
    assert not np.array_equal(samples(7), samples(8))


def test_attributes_and_spaces():
    env = CoordinationGame(rows=2, cols=3)
    assert (env.rows, env.cols, env.grid_shape) == (2, 3, (2, 3))
    assert env.possible_agents == [f"agent_{i}" for i in range(6)]
    assert env.default_graph() == grid(2, 3)
    assert env.metadata["name"] == "coordination_v0"
    assert env.action_space("agent_5").n == 2
    box = CoordinationGame(continuous=True).action_space("agent_0")
    assert (box.shape, box.dtype, float(box.low[0]), float(box.high[0])) == ((1,), np.float32, -1.0, 1.0)


def test_observations_are_constant_ones():
    env = CoordinationGame(rows=1, cols=2, max_cycles=2)
    observations, infos = env.reset(seed=1)
    assert set(observations) == set(infos) == {"agent_0", "agent_1"}
    next_observations = env.step({"agent_0": 0, "agent_1": 1})[0]
    for obs in (*observations.values(), *next_observations.values()):
        assert obs.dtype == np.float32 and obs.tolist() == [1.0]
        assert env.observation_space("agent_0").contains(obs)


@pytest.mark.parametrize("actions, expected", [
    ([1, 0, 0, 0], [-1.0, -0.5, -0.5, 0.0]),   # links 0-1, 2-3, 0-2, 1-3; two broken
    ([1, 0, 0, 1], [-1.0, -1.0, -1.0, -1.0]),  # diagonal: all four links broken
    ([1, 1, 1, 1], [0.0, 0.0, 0.0, 0.0]),
])
def test_discrete_rewards_2x2(actions, expected):
    env = CoordinationGame(rows=2, cols=2)
    _, rewards, _, _, infos = play(env, actions)
    assert reward_list(rewards, env) == expected
    assert infos["agent_3"]["team_reward"] == sum(expected)


@pytest.mark.parametrize("actions, expected_team, expected", [
    ([0] * 9, 0.0, [0.0] * 9),
    ([1] + [0] * 8, -2.0, [-1.0, -0.5, 0.0, -0.5, 0.0, 0.0, 0.0, 0.0, 0.0]),
    ([0, 0, 0, 0, 1, 0, 0, 0, 0], -4.0, [0.0, -0.5, 0.0, -0.5, -2.0, -0.5, 0.0, -0.5, 0.0]),
    ([1, 0, 1, 0, 1, 0, 1, 0, 1], -12.0, [-1.0, -1.5, -1.0, -1.5, -2.0, -1.5, -1.0, -1.5, -1.0]),
])
def test_discrete_rewards_3x3(actions, expected_team, expected):
    env = CoordinationGame()
    _, rewards, _, _, infos = play(env, actions)
    assert reward_list(rewards, env) == expected
    assert all(info["team_reward"] == expected_team for info in infos.values())


def test_continuous_rewards_2x2():
    env = CoordinationGame(rows=2, cols=2, continuous=True)
    # links: 0-1 (1.0)^2, 2-3 (1.0)^2, 0-2 (0.5)^2, 1-3 (1.5)^2 -> team -4.5
    _, rewards, _, _, infos = play(env, [np.array([0.5], np.float32), -0.5, np.float32(0.0), np.array([1.0])])
    np.testing.assert_allclose(reward_list(rewards, env), [-0.625, -1.625, -0.625, -1.625])
    assert infos["agent_0"]["team_reward"] == pytest.approx(-4.5)


def test_continuous_extremes_1x2():
    env = CoordinationGame(rows=1, cols=2, continuous=True)
    _, rewards, _, _, infos = play(env, [1.0, -1.0])
    assert reward_list(rewards, env) == [-2.0, -2.0]
    assert infos["agent_1"]["team_reward"] == -4.0


def test_truncates_all_agents_after_max_cycles():
    env = CoordinationGame(rows=1, cols=3, max_cycles=3)
    env.reset(seed=0)
    actions = {agent: 0 for agent in env.possible_agents}
    for _ in range(2):
        _, _, terminations, truncations, _ = env.step(actions)
        assert not any(terminations.values()) and not any(truncations.values())
        assert env.agents == env.possible_agents
    _, _, terminations, truncations, _ = env.step(actions)
    assert not any(terminations.values())
    assert all(truncations.values()) and set(truncations) == set(env.possible_agents)
    assert env.agents == []
    with pytest.raises(RuntimeError, match="reset"):
        env.step(actions)


@pytest.mark.parametrize("kwargs, message", [
    ({"rows": 0}, "rows=0"),
    ({"cols": -2}, "cols=-2"),
    ({"rows": 2.5}, "rows=2.5"),
    ({"rows": True}, "rows=True"),
    ({"rows": 1, "cols": 1}, "at least 2 agents"),
    ({"max_cycles": 0}, "max_cycles=0"),
    ({"render_mode": "human"}, "render_mode='human'"),
])
def test_bad_init_args(kwargs, message):
    with pytest.raises(ValueError, match=message):
        CoordinationGame(**kwargs)


@pytest.mark.parametrize("continuous, bad_action, message", [
    (False, 2, "agent_1.*0 or 1.*2"),
    (False, -1, "agent_1.*-1"),
    (False, 0.5, "agent_1.*0.5"),
    (False, True, "agent_1.*True"),
    (True, float("nan"), "agent_1.*nan"),
    (True, 1.5, r"agent_1.*\[-1, 1\].*1.5"),
    (True, np.array([0.1, 0.2]), r"agent_1.*single number.*\(2,\)"),
    (True, "0.3", "agent_1.*real number"),
])
def test_bad_actions(continuous, bad_action, message):
    env = CoordinationGame(rows=1, cols=2, continuous=continuous)
    env.reset()
    with pytest.raises(ValueError, match=message):
        env.step({"agent_0": 0, "agent_1": bad_action})


def test_unknown_and_missing_agents():
    env = CoordinationGame(rows=1, cols=2)
    with pytest.raises(RuntimeError, match="reset"):
        env.step({"agent_0": 0, "agent_1": 0})
    env.reset()
    with pytest.raises(ValueError, match="'agent_7'"):
        env.step({"agent_0": 0, "agent_1": 0, "agent_7": 0})
    with pytest.raises(ValueError, match="agent_1"):
        env.step({"agent_0": 0})
    with pytest.raises(ValueError, match="'nobody'"):
        env.action_space("nobody")
