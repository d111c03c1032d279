"""Cooperative navigation (paper appendix D.2): N agents spread out to cover N landmarks.

Physics are mpe2's `simple_spread` (agents of size 0.15 that collide with each other,
landmarks that neither move nor collide), run by a batched `ParticleWorld`. Agents and
landmarks start uniformly in [-R, R]^2, R = `world_radius(N)`, so that the density stays
comparable as N grows (at N = 3, R = 1 as in mpe2).

Observation of agent i, float32 [26] whatever N (appendix D.2):
  [0:2]   own velocity (vx, vy)
  [2:4]   own position (x, y)
  [4:14]  positions of the 5 nearest landmarks relative to agent i (landmark - agent),
          nearest first, (dx, dy) each
  [14:26] positions of the 6 nearest other agents relative to agent i, nearest first
With fewer than 5 landmarks or 6 other agents (N < 7), the missing slots at the end are zeros
(as mpe2's `num_landmark_neighbors` / `num_agent_neighbors` options pad them; these 26
values are the first 26 of mpe2's observation with those options set to 5 and 6). The same
options here narrow or widen the view: L landmarks and A agents give 4 + 2L + 2A values, laid
out the same way (a narrow view, e.g. L = A = 1, leaves what lies further away to be learned
from the neighbours, through propagation).

Rewards, unitless, computed after the step (`cooperative_navigation_rewards`). Agents i != j
collide when |p_i - p_j| < size_i + size_j (mpe2's `is_collision`); each agent pays -1 per
agent it collides with. The distance term depends on `reward`:
  "local" (default, the paper's "if these agents get closer to landmarks, they will obtain
    a larger reward"): r_i = -min_l |p_i - q_l|, agent i's distance to its own nearest
    landmark. Local (r_i depends on i and its neighbours only) and incentive-aligned.
  "difference": agent i's marginal contribution to coverage, C_-i - C (Wolpert & Tumer's
    difference reward): for every landmark whose nearest agent is i, the gap between the
    second-nearest and the nearest agent's distance. Aligned with the team objective, and
    it pays to spread out: two agents crowding one landmark earn almost nothing.
  "coverage": each landmark's distance to its nearest agent is charged to that agent, so
    the rewards sum to mpe2's team objective -sum_l min_i |p_i - q_l| - 2 * collisions. The
    split is exact but perverse for per-agent learners: becoming a landmark's nearest agent
    makes that agent pay for it. Trained with it, IP and independent policies both learned
    to move away from landmarks (N=30, 15000 steps: greedy team return about -900 against
    -506 for random actions), so it is not the default.
Either way `infos[agent]["coverage"]` (ParallelEnv) / `batch.coverage` ([K]) report mpe2's
coverage objective -sum_l min_i |p_i - q_l|, so runs with different rewards compare.
(mpe2 pays each agent 0.5 * global + 0.5 * own collision term.)
"""

from __future__ import annotations

import numpy as np

from keras_ip._checks import check_int
from keras_ip.envs.particles.base import ParticleParallelEnv
from keras_ip.envs.particles.batch import ParticleBatch
from keras_ip.envs.particles.neighbours import nearest_offsets, offsets_and_distances
from keras_ip.envs.particles.world import ParticleWorld

AGENT_SIZE = 0.15
LANDMARK_SIZE = 0.05  # mpe2's default; landmarks do not collide, so it only matters for drawing
NUM_LANDMARK_NEIGHBORS = 5
NUM_AGENT_NEIGHBORS = 6


def observation_size(num_landmark_neighbors: int, num_agent_neighbors: int) -> int:
    """4 + 2L + 2A: velocity, position, then L landmark and A agent offsets (26 by default)."""
    return 4 + 2 * num_landmark_neighbors + 2 * num_agent_neighbors


OBS_DIM = observation_size(NUM_LANDMARK_NEIGHBORS, NUM_AGENT_NEIGHBORS)  # 26

_RADIUS_ANCHORS = ((3, 15, 30, 100, 200), (1.0, 2.2, 3.0, 5.0, 7.0))  # N -> R (mpe2 at 3, PIC beyond)


def world_radius(n: int) -> float:
    """Half-width R of the square [-R, R]^2 where N agents and landmarks start.

    1.0 up to N = 3 (mpe2's [-1, 1]), then piecewise linear through the PIC variant's
    (15, 2.2), (30, 3), (100, 5), (200, 7); beyond 200, 7 * sqrt(N / 200) (constant density).
    """
    n = check_int("n", n)
    if n > _RADIUS_ANCHORS[0][-1]:
        return float(_RADIUS_ANCHORS[1][-1] * np.sqrt(n / _RADIUS_ANCHORS[0][-1]))
    return float(np.interp(n, *_RADIUS_ANCHORS))


REWARDS = ("local", "coverage", "difference")


def check_reward(reward) -> str:
    """Returns `reward` if it names a reward of `REWARDS`, else raises ValueError naming it."""
    if reward not in REWARDS:
        raise ValueError(f"reward must be one of {REWARDS}. Received: reward={reward!r}")
    return reward


def cooperative_navigation_rewards(landmark_distances: np.ndarray, agent_distances: np.ndarray,
                                   collision_distance, reward: str = "local") -> np.ndarray:
    """Per-agent rewards (see the module docstring).

    Args:
      landmark_distances: float [K, N, L], distance from agent i to landmark l.
      agent_distances: float [K, N, N], distance between agents (the diagonal is ignored).
      collision_distance: float or float [N, N], size_i + size_j; i and j collide below it.
      reward: "local" or "coverage".

    Returns:
      float32 [K, N]: -(i's distance term) - (number of agents i collides with).
    """
    check_reward(reward)
    num_copies, num_agents, num_landmarks = landmark_distances.shape
    colliding = (agent_distances < collision_distance) & ~np.eye(num_agents, dtype=bool)  # [K, N, N]
    if reward == "local":
        own = landmark_distances.min(axis=2) if num_landmarks else np.zeros((num_copies, num_agents))  # [K, N]
        return (0.0 - own - colliding.sum(axis=2)).astype(np.float32)
    if reward == "difference":
        return (_difference_terms(landmark_distances) - colliding.sum(axis=2)).astype(np.float32)
    nearest = landmark_distances.argmin(axis=1)  # [K, L], each landmark's nearest agent
    covered = np.take_along_axis(landmark_distances, nearest[:, None, :], axis=1)[:, 0]  # [K, L]
    owner = (np.arange(num_copies)[:, None] * num_agents + nearest).ravel()  # [K * L], flat index of (k, i)
    charged = np.bincount(owner, weights=covered.ravel(), minlength=num_copies * num_agents)  # [K * N]
    rewards = 0.0 - charged.reshape(num_copies, num_agents) - colliding.sum(axis=2)  # [K, N]; 0.0, not -0.0
    return rewards.astype(np.float32)


def _difference_terms(landmark_distances: np.ndarray) -> np.ndarray:
    """float [K, N, L] -> float64 [K, N]: sum over the landmarks agent i is nearest to of
    (second-nearest agent's distance - i's distance); 0 for a single agent."""
    num_copies, num_agents, _ = landmark_distances.shape
    if num_agents < 2:
        return np.zeros((num_copies, num_agents))
    two_nearest = np.partition(landmark_distances, 1, axis=1)[:, :2]  # [K, 2, L]
    gap = two_nearest[:, 1] - two_nearest[:, 0]  # [K, L]
    nearest = landmark_distances.argmin(axis=1)  # [K, L]
    owner = (np.arange(num_copies)[:, None] * num_agents + nearest).ravel()
    return np.bincount(owner, weights=gap.ravel(), minlength=num_copies * num_agents).reshape(num_copies, num_agents)


class CooperativeNavigationBatch(ParticleBatch):
    """K copies of cooperative navigation with N agents and N landmarks, on numpy arrays.

    Example:
      >>> batch = CooperativeNavigationBatch(num_envs=4, n=30, seed=0)
      >>> batch.reset().shape
      (4, 30, 26)
      >>> observations, rewards, terminated, truncated = batch.step(np.zeros((4, 30), int))
      >>> rewards.shape, truncated.any()
      ((4, 30), np.False_)

    Init args:
      num_envs: K >= 1 copies; copy k of a batch seeded with s is seeded with s + k.
      n: N >= 1 agents and as many landmarks.
      num_landmark_neighbors, num_agent_neighbors: L >= 1 landmarks and A >= 1 other agents
        in each observation (default 5 and 6: 26 values); see the module docstring.
      continuous: False: actions int [K, N] in 0..4 (no-op, left, right, down, up);
        True: actions float [K, N, 2] in [-1, 1], force directions (x, y).
      max_cycles: steps per episode; all agents are truncated at the last. There is no
        auto-reset: call `reset()` to start the next episode.
      seed: None or int >= 0, the seed of the first reset.

    `reset(seed=None)` -> observations float32 [K, N, 4 + 2L + 2A] (26 by default);
    `step(actions)` -> (observations float32 [K, N, 4 + 2L + 2A], rewards float32 [K, N],
    terminated bool [K, N] (always False), truncated bool [K, N]);
    `agent_positions()` -> float64 [K, N, 2]; `set_state(positions, velocities)` with
    float [K, 2N, 2] arrays (agents, then landmarks) -> observations.
    """

    def __init__(self, num_envs: int, n: int, continuous: bool = False, max_cycles: int = 25, seed=None,
                 reward: str = "local", num_landmark_neighbors: int = NUM_LANDMARK_NEIGHBORS,
                 num_agent_neighbors: int = NUM_AGENT_NEIGHBORS):
        self.reward = check_reward(reward)
        self.num_landmark_neighbors = check_int("num_landmark_neighbors", num_landmark_neighbors)
        self.num_agent_neighbors = check_int("num_agent_neighbors", num_agent_neighbors)
        self.coverage = None  # float64 [K] after reset / step
        self.n = check_int("n", n)
        self.radius = world_radius(self.n)
        world = ParticleWorld(num_envs, self.n, size=[AGENT_SIZE] * self.n + [LANDMARK_SIZE] * self.n,
                              movable=[True] * self.n + [False] * self.n,
                              collide=[True] * self.n + [False] * self.n)
        super().__init__(world, observation_size(self.num_landmark_neighbors, self.num_agent_neighbors), continuous,
                         max_cycles, seed)
        agent_size = world.size[:self.n]
        self._collision_distance = agent_size[:, None] + agent_size[None, :]  # [N, N]

    def _initial_positions(self, rng: np.random.Generator) -> np.ndarray:
        """Agents, then landmarks, uniform in [-R, R]^2 (drawn in mpe2's order): float64 [2N, 2]."""
        agents = rng.uniform(-self.radius, self.radius, (self.n, 2))
        landmarks = rng.uniform(-self.radius, self.radius, (self.n, 2))
        return np.concatenate([agents, landmarks])

    def _evaluate(self) -> tuple[np.ndarray, np.ndarray]:
        n = self.n
        agents = self.world.positions[:, :n]  # [K, N, 2]
        landmark_offsets, landmark_distances = offsets_and_distances(agents, self.world.positions[:, n:])
        agent_offsets, agent_distances = offsets_and_distances(agents)  # [2, K, N, N], [K, N, N] (inf diagonal)
        split = 4 + 2 * self.num_landmark_neighbors
        observations = np.empty((self.num_envs, n, self.obs_dim), np.float32)
        observations[..., 0:2] = self.world.velocities[:, :n]
        observations[..., 2:4] = agents
        observations[..., 4:split] = nearest_offsets(landmark_offsets, landmark_distances, self.num_landmark_neighbors)
        observations[..., split:] = nearest_offsets(agent_offsets, agent_distances, self.num_agent_neighbors)
        self.coverage = -landmark_distances.min(axis=1).sum(axis=1)  # [K]: -sum_l min_i |p_i - q_l|
        rewards = cooperative_navigation_rewards(landmark_distances, agent_distances, self._collision_distance,
                                                 self.reward)
        return observations, rewards


class CooperativeNavigation(ParticleParallelEnv):
    """Cooperative navigation as a PettingZoo `ParallelEnv` (one copy of `CooperativeNavigationBatch`).

    Example:
      >>> env = CooperativeNavigation(n=15)
      >>> observations, infos = env.reset(seed=0)
      >>> observations["agent_0"].shape, env.agent_positions().shape
      ((26,), (15, 2))
      >>> _, rewards, _, _, infos = env.step({agent: 4 for agent in env.agents})  # all move up

    Init args:
      n: number of agents and of landmarks, >= 1.
      continuous: Discrete(5) actions if False, Box(-1, 1, (2,), float32) if True.
      max_cycles: steps per episode (default 25, as in mpe2).
      render_mode: must be None.
      reward: "local" (default), "difference" or "coverage"; see the module docstring.
      num_landmark_neighbors, num_agent_neighbors: the view, L landmarks and A agents
        (default 5 and 6, the paper's 26-value observation).

    Infos: every agent's info holds "team_reward" (the sum of the rewards) and "coverage"
    (mpe2's objective -sum_l min_i |p_i - q_l|, whatever `reward` is).
    """

    metadata = {"name": "cooperative_navigation_v0", "render_modes": [], "is_parallelizable": True}

    def __init__(self, n: int = 15, continuous: bool = False, max_cycles: int = 25, render_mode: str | None = None,
                 reward: str = "local", num_landmark_neighbors: int = NUM_LANDMARK_NEIGHBORS,
                 num_agent_neighbors: int = NUM_AGENT_NEIGHBORS):
        super().__init__(CooperativeNavigationBatch(1, n, continuous, max_cycles, reward=reward,
                                                    num_landmark_neighbors=num_landmark_neighbors,
                                                    num_agent_neighbors=num_agent_neighbors), render_mode)
        self.n = self.batch.n

    def _step_info(self) -> dict:
        return {"coverage": float(self.batch.coverage[0])}
