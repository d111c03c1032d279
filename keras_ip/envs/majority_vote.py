"""Majority vote: a task where only agents that pass messages can act well, as a PettingZoo `ParallelEnv`.

Agents sit on a rows x cols grid (agent r * cols + c at row r, column c). Every step each
agent privately draws a preference bit b_i ~ Bernoulli(1/2) (independent, from the seeded
`np_random`) and observes [b_i, d_i / d_max], its bit and its grid degree over the largest
degree. It picks a_i in {0, 1} and is paid 1 when its choice is a majority preference of its
radius-R ball B_R(i) (the agents at most R grid links away, itself included), ties paying
either choice:

    r_i = 1[ 2 * #{j in B_R(i) : b_j = a_i} >= |B_R(i)| ],     team reward = sum_i r_i.

With `radius=None` the ball is the whole grid (the global majority).

What each kind of policy can reach. Agent i's reward depends on its own action and the
bits only, so the team optimum and the best policy under any information constraint split
into one choice per agent. The optimum N per step needs the bits of the whole ball, so a
policy whose agent i sees the bits within s hops (s >= R) reaches it. A policy that sees
the bits of B_s(i) only (s < R) can do no better than choosing the likelier majority given
the bits it sees, which `best_expected_reward(graph, radius, sight=s)` computes exactly;
sight=0 is an independent policy (`propagation="none"`), whatever its critics see. An IP
policy with `hops` = H has receptive field B_H(i). On the default 4 x 4 grid with radius 2
(balls of 6 to 11 agents), per step:

    sight (hops)          0       1        2 or more
    best team reward     11.93   13.44    16 (the optimum)

The gap grows with R: with radius 1 an independent policy reaches 12.75 of 16, with radius
3 it reaches 11.21 (sight 1: 12.38, sight 2: 13.95). Episodes last `max_cycles` steps (default
1); bits are redrawn every step, so steps are independent one-shot games. After step
`max_cycles` every agent is truncated.
"""

from __future__ import annotations

import math

import gymnasium
import numpy as np

from keras_ip._checks import check_int
from keras_ip.envs._plumbing import CheckedParallelEnv, binary_action, check_grid_game_args
from keras_ip.graphs import Graph, grid


class MajorityVote(CheckedParallelEnv):
    """Grid majority vote: each agent is paid for choosing the majority bit of its radius-R ball.

    Example:
      >>> env = MajorityVote(rows=1, cols=3, radius=1)
      >>> observations, infos = env.reset(seed=0)
      >>> bits = [int(observations[a][0]) for a in env.possible_agents]
      >>> _, rewards, _, _, infos = env.step(dict(zip(env.possible_agents, bits)))
      >>> infos["agent_0"]["team_reward"] >= 2.0  # every agent's ball holds its own bit
      True

    Init args:
      rows, cols: grid size, each >= 1, with rows * cols >= 2 agents.
      radius: the ball each agent must match the majority of, in grid links (>= 1), or
        None for the whole grid.
      max_cycles: steps per episode, >= 1; all agents are truncated after the last.
      render_mode: must be None (the game has nothing to draw).

    Step args:
      actions: dict agent name -> action in {0, 1} (python int, numpy integer or size-1 array).

    Step returns:
      observations: dict agent -> float32 [2], [b_i, d_i / d_max] with the next step's bits.
      rewards: dict agent -> float, r_i above (1.0 or 0.0).
      terminations: dict agent -> False.
      truncations: dict agent -> True at step `max_cycles`, else False.
      infos: dict agent -> {"team_reward": float, "optimum": float}; the optimum is N.
    """

    metadata = {"name": "majority_vote_v0", "render_modes": [], "is_parallelizable": True}

    def __init__(self, rows: int = 4, cols: int = 4, radius: int | None = 2, max_cycles: int = 1,
                 render_mode: str | None = None):
        self.rows, self.cols, self.max_cycles = check_grid_game_args("MajorityVote", rows, cols, max_cycles,
                                                                     render_mode)
        self.radius = None if radius is None else check_int("radius", radius)
        self.grid_shape = (self.rows, self.cols)
        self.render_mode = render_mode
        self._graph = grid(self.rows, self.cols)
        self.ball = ball_matrix(self._graph, self.radius)  # bool [N, N]
        degrees = self._graph.degrees()
        self._degree_feature = (degrees / degrees.max()).astype(np.float32)  # [N]
        self.possible_agents = [f"agent_{i}" for i in range(self._graph.num_nodes)]
        self.agents = []
        self.observation_spaces = {
            agent: gymnasium.spaces.Box(0.0, 1.0, shape=(2,), dtype=np.float32) for agent in self.possible_agents}
        self.action_spaces = {agent: gymnasium.spaces.Discrete(2) for agent in self.possible_agents}
        self.np_random = np.random.default_rng()
        self.bits = np.zeros(self._graph.num_nodes, np.int64)
        self._cycle = 0

    def default_graph(self) -> Graph:
        """The agents' communication graph: `keras_ip.graphs.grid(rows, cols)`."""
        return self._graph

    def reset(self, seed: int | None = None, options: dict | None = None):
        """Starts an episode and draws the bits; returns (observations, infos), dicts keyed by agent.

        With a seed, `np_random` is reseeded and every agent's action and observation space
        is seeded from it, so bits and `action_space(agent).sample()` repeat per seed.
        """
        if seed is not None:
            self.np_random = np.random.default_rng(seed)
            self._seed_spaces(self.np_random)
        self.agents = list(self.possible_agents)
        self._cycle = 0
        self.bits = self.np_random.integers(0, 2, size=len(self.possible_agents))  # [N]
        return self._observations(), {agent: {} for agent in self.agents}

    def step(self, actions: dict):
        """Pays every agent that chose a majority bit of its ball, then draws new bits."""
        self._check_joint_action(actions)
        a = np.array([binary_action(agent, actions[agent]) for agent in self.possible_agents])  # [N]
        rewards = majority_rewards(a, self.bits, self.ball)  # [N]
        infos = {agent: {"team_reward": float(rewards.sum()), "optimum": float(len(rewards))}
                 for agent in self.agents}
        self.bits = self.np_random.integers(0, 2, size=len(self.possible_agents))
        return self._clocked_step_result(self._observations(), rewards, infos)

    def _observations(self) -> dict:
        features = np.stack([self.bits.astype(np.float32), self._degree_feature], axis=1)  # [N, 2]
        return {agent: features[i] for i, agent in enumerate(self.agents)}


def ball_matrix(graph: Graph, radius: int | None) -> np.ndarray:
    """bool [N, N]: entry (i, j) is True when j is at most `radius` links from i (None: any distance)."""
    adjacency = graph.adjacency().astype(np.int64)  # [N, N]
    reach = np.eye(graph.num_nodes, dtype=bool)
    steps = graph.num_nodes if radius is None else radius
    for _ in range(steps):
        grown = reach | (reach.astype(np.int64) @ adjacency > 0)
        if np.array_equal(grown, reach):
            break
        reach = grown
    return reach


def majority_rewards(actions: np.ndarray, bits: np.ndarray, ball: np.ndarray) -> np.ndarray:
    """Per-agent rewards r_i = 1[2 * #{j in B(i) : b_j = a_i} >= |B(i)|].

    Args:
      actions: int [N] in {0, 1}. bits: int [N] in {0, 1}. ball: bool [N, N], row i marks B(i).
    Returns:
      float64 [N] of 0.0 and 1.0.
    """
    size = ball.sum(axis=1)                                   # [N]
    ones = ball.astype(np.int64) @ bits                       # [N], ones in each ball
    matches = np.where(actions == 1, ones, size - ones)       # [N]
    return (2 * matches >= size).astype(np.float64)


def best_expected_reward(graph: Graph, radius: int | None, sight: int | None) -> float:
    """Exact expected team reward per step of the best policy whose agent i sees the bits of B_sight(i).

    Agent i knows v = |B_R(i) & B_sight(i)| bits of its ball of n; the other h = n - v are
    fair coins. Seeing k ones, choosing 1 pays P(k + X >= n/2), choosing 0 pays
    P(v - k + h - X >= n/2), X ~ Binomial(h, 1/2); the best policy takes the larger, and the
    result averages that over k ~ Binomial(v, 1/2) and sums over agents. sight=0 is an
    independent policy, sight=None (or >= radius) the optimum N.

    Args:
      graph: the agents' graph. radius: the reward's ball radius (None: whole graph).
      sight: hops of bits each agent sees, >= 0, or None for all.
    Returns:
      float, in rewards per step (at most N).
    """
    if sight is not None:
        check_int("sight", sight, minimum=0)
    ball = ball_matrix(graph, radius)
    seen = ball & ball_matrix(graph, sight) if sight != 0 else ball & np.eye(graph.num_nodes, dtype=bool)
    sizes = np.stack([ball.sum(axis=1), seen.sum(axis=1)], axis=1)  # [N, 2]: n, v
    pairs, counts = np.unique(sizes, axis=0, return_counts=True)
    return float(sum(count * _best_agent_reward(int(n), int(v)) for (n, v), count in zip(pairs, counts)))


def _best_agent_reward(n: int, v: int) -> float:
    """Expected reward of one agent that sees v of its ball's n fair bits and chooses the likelier majority."""
    h = n - v

    def at_least(needed: int) -> float:  # P(X >= needed), X ~ Binomial(h, 1/2)
        return sum(math.comb(h, x) for x in range(max(needed, 0), h + 1)) / 2**h

    total = 0.0
    for k in range(v + 1):
        need_ones, need_zeros = math.ceil(n / 2) - k, math.ceil(n / 2) - (v - k)
        total += math.comb(v, k) / 2**v * max(at_least(need_ones), at_least(need_zeros))
    return total
