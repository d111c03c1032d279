"""The collection loop's edge cases: per-copy episode clocks and k-NN graphs across partial
resets, the static graph left alone, learning_starts counted in the current replay, and
replay settings that change between fits."""

import numpy as np
import pytest
from gymnasium import spaces
from pettingzoo import ParallelEnv

from keras_ip import IPAgent
from keras_ip.graphs import KNN

NUM_AGENTS = 5
TINY = dict(units=8, batch_size=8, learning_starts=1000, train_freq=4, gradient_steps=1, buffer_size=400,
            jit_compile=False, seed=0)


class DriftingAgents(ParallelEnv):
    """Agents drifting at constant velocities; episodes last 3 steps after an even reset seed, 5 after an odd one.

    Each agent observes [x, y, t, key]: its position, the episode's step t and the episode key
    (the reset seed), from which the test recomputes every position: base(key) + t * velocity(key).
    """

    metadata = {"name": "drifting_agents"}

    def __init__(self):
        self.possible_agents = [f"agent_{i}" for i in range(NUM_AGENTS)]
        self.agents = []
        self.key, self.t, self.length = 0, 0, 3

    def observation_space(self, agent):
        return spaces.Box(-np.inf, np.inf, (4,), np.float32)

    def action_space(self, agent):
        return spaces.Discrete(2)

    def reset(self, seed=None, options=None):
        self.key = 0 if seed is None else int(seed) % 100_000
        self.t, self.length = 0, 3 + 2 * (self.key % 2)
        self.agents = list(self.possible_agents)
        return self._observations(), {agent: {} for agent in self.agents}

    def step(self, actions):
        self.t += 1
        over = self.t >= self.length
        observations = self._observations()
        rewards = {agent: 0.0 for agent in self.agents}
        terminations = {agent: False for agent in self.agents}
        truncations = {agent: over for agent in self.agents}
        infos = {agent: {} for agent in self.agents}
        if over:
            self.agents = []
        return observations, rewards, terminations, truncations, infos

    def agent_positions(self):
        return positions_of(self.key, self.t)

    def _observations(self):
        positions = positions_of(self.key, self.t)
        return {agent: np.array([*positions[i], self.t, self.key], np.float32) for i, agent in enumerate(self.agents)}


def positions_of(key, t):
    rng = np.random.default_rng(int(key))
    base, velocity = rng.uniform(0, 10, (NUM_AGENTS, 2)), rng.normal(0, 3, (NUM_AGENTS, 2))
    return base + t * velocity


@pytest.mark.parametrize("every", [1, 2])
def test_every_copy_keeps_its_own_graph_and_clock_across_partial_resets(every):
    agent = IPAgent(DriftingAgents(), graph=KNN(2, every), n_envs=2, **TINY)
    agent.fit(40, progress_bar=False)
    schedule = KNN(2, every)
    checked, partial_resets = 0, 0
    for buffer in agent.replay.buffers:
        state = buffer.state_dict()
        for observation, senders, receivers in zip(state["observations"], state["senders"], state["receivers"]):
            t, key = int(observation[0, 2]), int(observation[0, 3])
            expected = schedule.build(positions_of(key, t - t % every))  # rebuilt at the copy's own due steps
            np.testing.assert_array_equal(senders, expected.senders, err_msg=f"t={t}, key={key}")
            np.testing.assert_array_equal(receivers, expected.receivers)
            checked += 1
            partial_resets += t == 0
    assert checked >= 40 and partial_resets >= 8
    assert agent.graph is None  # graph="knn" has no static graph; collection never overwrites it
    agent.close()


def test_learning_starts_counts_transitions_in_the_current_replay(tmp_path):
    agent = IPAgent("coordination", env_kwargs={"rows": 2, "cols": 2}, **dict(TINY, learning_starts=16))
    agent.fit(32, progress_bar=False)
    loaded = IPAgent.load(agent.save(tmp_path / "agent"))  # without the replay
    loaded.fit(12, progress_bar=False)
    assert len(loaded.replay) == 12 and loaded.num_updates == agent.num_updates
    loaded.fit(4, progress_bar=False)
    assert loaded.num_updates == agent.num_updates + 1


def test_changing_n_envs_warns_that_the_replay_is_discarded():
    agent = IPAgent("coordination", env_kwargs={"rows": 2, "cols": 2}, **TINY).fit(8, progress_bar=False)
    with pytest.warns(UserWarning, match="8 transitions are discarded"):
        agent.set_params(n_envs=2)
    assert agent.replay is None
    agent.fit(8, progress_bar=False)
    assert len(agent.replay.buffers) == 2 and len(agent.replay) == 8
    agent.close()


def test_set_params_buffer_size_rebuilds_the_replay_so_it_saves_and_loads(tmp_path):
    agent = IPAgent("coordination", env_kwargs={"rows": 2, "cols": 2}, **TINY).fit(8, progress_bar=False)
    with pytest.warns(UserWarning, match="discarded"):
        agent.set_params(buffer_size=300)
    agent.fit(8, progress_bar=False)
    assert agent.replay.buffers[0].capacity == 300
    loaded = IPAgent.load(agent.save(tmp_path / "agent", include_replay=True))
    assert len(loaded.replay) == len(agent.replay) == 8


def test_set_params_that_keeps_the_replay_layout_keeps_its_transitions():
    agent = IPAgent("coordination", env_kwargs={"rows": 2, "cols": 2}, **TINY).fit(8, progress_bar=False)
    agent.set_params(batch_size=4, buffer_size=400)
    assert len(agent.replay) == 8
