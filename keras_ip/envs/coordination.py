"""The coordination game of the paper's appendix F.1, as a PettingZoo `ParallelEnv`.

Agents sit on a rows x cols grid (agent r * cols + c at row r, column c). The state is
a constant (every observation is `[1.0]`, no information), each agent picks an action
a_i, and each undirected grid link (i, j) pays -(a_i - a_j)^2. The team reward is the
sum over links, with optimum 0 when all agents agree (all 0 or all 1). An independent
policy cannot coordinate here; intention propagation can (paper Figure 7).

Agent i's reward is half of each of its links: r_i = -0.5 * sum_{j in N(i)} (a_i - a_j)^2,
so that sum_i r_i equals the team reward.

Episodes last `max_cycles` steps (default 1: the one-shot game of the paper). The
state never changes, so the game never terminates: after step `max_cycles` every
agent is truncated (`truncations` True, `terminations` False), the PettingZoo
convention for a time limit, and a learner should bootstrap through it.
"""

from __future__ import annotations

import gymnasium
import numpy as np

from keras_ip.envs._plumbing import CheckedParallelEnv, binary_action, check_grid_game_args, single_number
from keras_ip.graphs import Graph, grid


class CoordinationGame(CheckedParallelEnv):
    """Grid coordination game: agents are paid for matching their grid neighbours.

    Example:
      >>> env = CoordinationGame(rows=2, cols=2)
      >>> observations, infos = env.reset(seed=0)
      >>> _, rewards, _, truncations, infos = env.step({a: 1 for a in env.agents})
      >>> infos["agent_0"]["team_reward"], all(truncations.values())
      (0.0, True)

    Init args:
      rows, cols: grid size, each >= 1, with rows * cols >= 2 agents.
      continuous: if False, actions are Discrete(2) ({0, 1}); if True, actions are
        Box(-1, 1, shape=(1,), float32).
      max_cycles: steps per episode, >= 1; all agents are truncated after the last.
      render_mode: must be None (the game has nothing to draw).

    Step args:
      actions: dict agent name -> action, one for every agent in `self.agents`.
        Discrete: an integer in {0, 1} (python int, numpy integer or size-1 array).
        Continuous: a finite number in [-1, 1] (python float or shape (1,) array).

    Step returns:
      observations: dict agent -> float32 [1], always ones.
      rewards: dict agent -> float, r_i above (unitless, <= 0).
      terminations: dict agent -> False.
      truncations: dict agent -> True at step `max_cycles`, else False.
      infos: dict agent -> {"team_reward": float}, the sum of rewards over links.
    """

    metadata = {"name": "coordination_v0", "render_modes": [], "is_parallelizable": True}

    def __init__(self, rows: int = 3, cols: int = 3, continuous: bool = False, max_cycles: int = 1,
                 render_mode: str | None = None):
        self.rows, self.cols, self.max_cycles = check_grid_game_args("CoordinationGame", rows, cols, max_cycles,
                                                                     render_mode)
        self.grid_shape = (self.rows, self.cols)
        self.continuous = bool(continuous)
        self.render_mode = render_mode
        self._graph = grid(self.rows, self.cols)
        self.possible_agents = [f"agent_{i}" for i in range(self.rows * self.cols)]
        self.agents = []
        self.observation_spaces = {
            agent: gymnasium.spaces.Box(0.0, 1.0, shape=(1,), dtype=np.float32) for agent in self.possible_agents}
        self.action_spaces = {agent: (gymnasium.spaces.Box(-1.0, 1.0, shape=(1,), dtype=np.float32) if continuous
                                      else gymnasium.spaces.Discrete(2)) for agent in self.possible_agents}
        self.np_random = np.random.default_rng()
        self._cycle = 0

    def default_graph(self) -> Graph:
        """The agents' communication graph: `keras_ip.graphs.grid(rows, cols)`."""
        return self._graph

    def reset(self, seed: int | None = None, options: dict | None = None):
        """Starts an episode; returns (observations, infos), dicts keyed by agent.

        With a seed, `np_random` is reseeded and every agent's action and observation
        space is seeded from it, so `action_space(agent).sample()` repeats per seed.
        """
        if seed is not None:
            self.np_random = np.random.default_rng(seed)
            self._seed_spaces(self.np_random)
        self.agents = list(self.possible_agents)
        self._cycle = 0
        return self._observations(), {agent: {} for agent in self.agents}

    def step(self, actions: dict):
        """Pays every agent for agreeing with its neighbours; see the class docstring."""
        self._check_joint_action(actions)
        a = np.array([self._action_value(agent, actions[agent]) for agent in self.possible_agents])  # [N]
        rewards = coordination_rewards(a, self._graph)  # [N]
        team_reward = float(rewards.sum())
        infos = {agent: {"team_reward": team_reward} for agent in self.agents}
        return self._clocked_step_result(self._observations(), rewards, infos)

    def _observations(self) -> dict:
        return {agent: np.ones(1, np.float32) for agent in self.agents}

    def _action_value(self, agent: str, action) -> float:
        """One agent's action as a float, after checking it is a legal action."""
        if not self.continuous:
            return float(binary_action(agent, action))
        value = single_number(agent, action)
        if not (np.issubdtype(value.dtype, np.integer) or np.issubdtype(value.dtype, np.floating)):
            raise ValueError(f"The action of {agent} must be a real number. Received: {action!r}")
        if not np.isfinite(value) or not -1.0 <= value <= 1.0:
            raise ValueError(f"The action of {agent} must be a finite number in [-1, 1]. Received: {action!r}")
        return float(value)


def coordination_rewards(actions: np.ndarray, graph: Graph) -> np.ndarray:
    """Per-agent rewards r_i = -0.5 * sum_{j in N(i)} (a_i - a_j)^2 (paper appendix F.1).

    Args:
      actions: float [N], one scalar action per agent.
      graph: symmetric `Graph` over the N agents (each link stored in both directions).

    Returns:
      float64 [N]; its sum is the team reward -sum_{links (i, j)} (a_i - a_j)^2.
    """
    squared = (actions[graph.senders] - actions[graph.receivers]) ** 2  # [E]
    return 0.0 - 0.5 * np.bincount(graph.receivers, weights=squared, minlength=graph.num_nodes)  # 0.0, not -0.0
