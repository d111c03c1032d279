"""ParallelEnvAdapter: stacking, masking of departed agents, space checks, action checks."""

import warnings

import gymnasium
import numpy as np
import pytest
from pettingzoo import ParallelEnv
from pettingzoo.test import parallel_api_test

from keras_ip.envs import CoordinationGame, ParallelEnvAdapter

BOX2 = gymnasium.spaces.Box(-np.inf, np.inf, shape=(2,), dtype=np.float32)


class FakeEnv(ParallelEnv):
    """Agents a, b, c; b terminates at step 1, the rest are truncated at step 3.

    Agent i observes [i, t] at step t and is paid its action + 1. `received` records
    the action dicts the env was sent. `nan_step` puts a NaN in c's observation then.
    """

    metadata = {"name": "fake_v0"}

    def __init__(self, observation_spaces=None, action_spaces=None, nan_step=None):
        self.possible_agents = ["a", "b", "c"]
        self.agents = []
        self._observation_spaces = observation_spaces or dict.fromkeys(self.possible_agents, BOX2)
        self._action_spaces = action_spaces or dict.fromkeys(self.possible_agents, gymnasium.spaces.Discrete(3))
        self.nan_step = nan_step
        self.received = []

    def observation_space(self, agent):
        return self._observation_spaces[agent]

    def action_space(self, agent):
        return self._action_spaces[agent]

    def reset(self, seed=None, options=None):
        self.agents, self.t, self.received = list(self.possible_agents), 0, []
        return self._observations(), {agent: {} for agent in self.agents}

    def step(self, actions):
        self.received.append(dict(actions))
        self.t += 1
        rewards = {agent: float(actions[agent]) + 1.0 for agent in self.agents}
        terminations = {agent: agent == "b" for agent in self.agents}
        truncations = {agent: self.t >= 3 for agent in self.agents}
        observations, infos = self._observations(), {agent: {"t": self.t} for agent in self.agents}
        self.agents = [agent for agent in self.agents if not (terminations[agent] or truncations[agent])]
        return observations, rewards, terminations, truncations, infos

    def _observations(self):
        observations = {agent: np.array([self.possible_agents.index(agent), self.t], np.float32)
                        for agent in self.agents}
        if self.t == self.nan_step:
            observations["c"][0] = np.nan
        return observations


def test_fake_env_is_a_valid_parallel_env():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        parallel_api_test(FakeEnv(), num_cycles=5)


def test_departed_agent_is_masked_and_not_sent_actions():
    env = FakeEnv()
    adapter = ParallelEnvAdapter(env)
    assert (adapter.agents, adapter.num_agents, adapter.obs_dim, adapter.num_actions) == (["a", "b", "c"], 3, 2, 3)
    assert adapter.episode_over
    np.testing.assert_array_equal(adapter.reset(), [[0, 0], [1, 0], [2, 0]])
    assert not adapter.episode_over

    obs, rewards, terminated, truncated, infos = adapter.step(np.array([2, 1, 0]))
    assert env.received[-1] == {"a": 2, "b": 1, "c": 0}
    np.testing.assert_array_equal(obs, [[0, 1], [1, 1], [2, 1]])
    assert rewards.tolist() == [3.0, 2.0, 1.0] and rewards.dtype == np.float32
    assert terminated.tolist() == [False, True, False] and truncated.tolist() == [False, False, False]
    assert infos["b"] == {"t": 1}

    obs, rewards, terminated, truncated, _ = adapter.step(np.array([1, 1, 1]))
    assert env.received[-1] == {"a": 1, "c": 1}
    np.testing.assert_array_equal(obs, [[0, 2], [0, 0], [2, 2]])
    assert rewards.tolist() == [2.0, 0.0, 2.0]
    assert terminated.tolist() == [False, True, False] and truncated.tolist() == [False, False, False]
    assert not adapter.episode_over

    _, _, terminated, truncated, _ = adapter.step(np.array([0, 0, 0]))
    assert terminated.tolist() == [False, True, False] and truncated.tolist() == [True, False, True]
    assert adapter.episode_over
    with pytest.raises(RuntimeError, match="reset"):
        adapter.step(np.array([0, 0, 0]))
    adapter.reset()
    assert not adapter.episode_over


def test_coordination_game_discrete():
    adapter = ParallelEnvAdapter(CoordinationGame(rows=2, cols=2))
    assert adapter.discrete and adapter.num_actions == 2 and adapter.obs_dim == 1
    obs = adapter.reset(seed=0)
    assert obs.shape == (4, 1) and obs.dtype == np.float32 and obs.sum() == 4.0
    obs, rewards, terminated, truncated, infos = adapter.step(np.array([1, 0, 0, 0]))
    assert rewards.tolist() == [-1.0, -0.5, -0.5, 0.0]
    assert infos["agent_0"]["team_reward"] == -2.0
    assert not terminated.any() and truncated.all() and adapter.episode_over
    assert obs.tolist() == [[1.0]] * 4


def test_coordination_game_continuous_random_actions():
    adapter = ParallelEnvAdapter(CoordinationGame(rows=2, cols=3, continuous=True, max_cycles=2))
    assert not adapter.discrete and adapter.action_dim == 1
    assert adapter.action_low.tolist() == [-1.0] and adapter.action_high.tolist() == [1.0]
    actions = adapter.random_actions(np.random.default_rng(0))
    assert actions.shape == (6, 1) and actions.dtype == np.float32
    assert np.all(np.abs(actions) <= 1.0) and np.unique(actions).size == 6
    np.testing.assert_array_equal(actions, adapter.random_actions(np.random.default_rng(0)))
    adapter.reset(seed=0)
    _, rewards, _, truncated, infos = adapter.step(actions)
    assert rewards.sum() == pytest.approx(infos["agent_0"]["team_reward"], abs=1e-5) and rewards.sum() < 0
    assert not truncated.any()


def test_discrete_random_actions_cover_the_action_set():
    adapter = ParallelEnvAdapter(FakeEnv())
    actions = np.stack([adapter.random_actions(np.random.default_rng(seed)) for seed in range(20)])
    assert actions.shape == (20, 3) and np.issubdtype(actions.dtype, np.integer)
    assert set(actions.ravel().tolist()) == {0, 1, 2}


@pytest.mark.parametrize("continuous, actions, message", [
    (False, np.array([0, 1, 0]), r"shape \(4,\).*\(3,\)"),
    (False, np.zeros((4, 1), np.int64), r"\(4, 1\)"),
    (False, np.array([0.0, 1.0, 0.0, 1.0]), "float64"),
    (True, np.zeros(4, np.float32), r"\(4, 1\).*\(4,\)"),
])
def test_wrong_actions(continuous, actions, message):
    adapter = ParallelEnvAdapter(CoordinationGame(rows=2, cols=2, continuous=continuous))
    adapter.reset()
    with pytest.raises(ValueError, match=message):
        adapter.step(actions)


def test_nan_observation_is_rejected():
    adapter = ParallelEnvAdapter(FakeEnv(nan_step=1))
    adapter.reset()
    with pytest.raises(ValueError, match="observation of c.*NaN"):
        adapter.step(np.array([0, 0, 0]))


@pytest.mark.parametrize("space_kwargs, error, message", [
    ({"observation_spaces": dict.fromkeys("abc", gymnasium.spaces.Discrete(4))}, TypeError, "Box"),
    ({"action_spaces": {"a": gymnasium.spaces.Box(-1, 1, (2,)), "b": gymnasium.spaces.Box(-1, 1, (2,)),
                        "c": gymnasium.spaces.Box(-1, 1, (1,))}},
     ValueError, r"different action spaces only when they are all Discrete.*c has Box"),
    ({"action_spaces": {"a": gymnasium.spaces.Discrete(3), "b": gymnasium.spaces.Discrete(3),
                        "c": gymnasium.spaces.Box(-1, 1, (1,))}},
     ValueError, r"different action spaces only when they are all Discrete.*c has Box"),
    ({"action_spaces": dict.fromkeys("abc", gymnasium.spaces.MultiDiscrete([2, 2]))}, TypeError, "Discrete or Box"),
    ({"action_spaces": dict.fromkeys("abc", gymnasium.spaces.Discrete(3, start=1))}, ValueError, "start=1"),
    ({"action_spaces": dict.fromkeys("abc", gymnasium.spaces.Box(-np.inf, 1, (2,)))}, ValueError, "finite"),
])
def test_unsupported_spaces(space_kwargs, error, message):
    with pytest.raises(error, match=message):
        ParallelEnvAdapter(FakeEnv(**space_kwargs))


def test_wrong_observation_size_is_rejected():
    adapter = ParallelEnvAdapter(FakeEnv(observation_spaces=dict.fromkeys("abc", gymnasium.spaces.Box(0, 9, (3,)))))
    with pytest.raises(ValueError, match="observation of a has 2 values.*3"):
        adapter.reset()


class GroupedEnv(FakeEnv):
    """FakeEnv with agents in two groups: "scout_0" sees 3 values, "truck_0"/"truck_1" see 2."""

    def __init__(self, scout_size=3):
        super().__init__()
        self.possible_agents = ["scout_0", "truck_0", "truck_1"]
        self._observation_spaces = {"scout_0": gymnasium.spaces.Box(0, 9, (scout_size,)), "truck_0": BOX2,
                                    "truck_1": BOX2}
        self._action_spaces = dict.fromkeys(self.possible_agents, gymnasium.spaces.Discrete(3))

    def _observations(self):
        return {agent: np.arange(self._observation_spaces[agent].shape[0], dtype=np.float32) + 10 * i
                for i, agent in enumerate(self.possible_agents) if agent in self.agents}


def test_groups_with_different_observation_sizes_are_zero_padded():
    adapter = ParallelEnvAdapter(GroupedEnv())
    assert adapter.group_names == ["scout", "truck"] and adapter.group_obs_dims == [3, 2]
    np.testing.assert_array_equal(adapter.group_ids, [0, 1, 1])
    assert adapter.obs_dim == 3
    np.testing.assert_array_equal(adapter.reset(), [[0, 1, 2], [10, 11, 0], [20, 21, 0]])


def test_one_group_with_two_observation_sizes_is_rejected():
    env = GroupedEnv()
    env._observation_spaces["truck_1"] = gymnasium.spaces.Box(0, 9, (4,))
    with pytest.raises(ValueError, match="group 'truck' has 2 and 4"):
        ParallelEnvAdapter(env)


@pytest.mark.parametrize("name, group", [("adversary_0", "adversary"), ("red_12", "red"), ("agent", "agent"),
                                         ("big_agent_3", "big_agent"), ("a_b", "a_b")])
def test_group_of(name, group):
    from keras_ip.envs.adapter import group_of
    assert group_of(name) == group


def test_positions_are_none_without_a_position_source():
    adapter = ParallelEnvAdapter(FakeEnv())
    adapter.reset()
    assert adapter.positions() is None
