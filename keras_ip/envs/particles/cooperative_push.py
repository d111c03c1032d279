"""Cooperative push (paper appendix D.2): N agents push one large, heavy ball onto a goal.

The PIC variant's `simple_coop_push` (github.com/IouJenLiu/PIC) on mpe2 physics: N
agents (size 0.1, mass 1, mpe2's accel 5, no speed limit) and one ball (size 0.3, mass
8, PIC's mass; movable, no speed limit) all collide, so the ball moves only by the
contact forces of the agents that press on it. The goal (size 0.05) neither moves nor
collides. Agents start uniform in [-R, R]^2, R = `world_radius(N)` (as in cooperative
navigation); the ball and the goal uniform in [-(R - 0.3), R - 0.3]^2.

Observation of agent i, float32 [28] whatever N (appendix D.2):
  [0:2]   own velocity (vx, vy)
  [2:4]   own position (x, y)
  [4:6]   position of the ball relative to agent i (ball - agent)
  [6:8]   velocity of the ball (vx, vy)
  [8:10]  position of the goal relative to agent i
  [10:28] relative positions of the 9 nearest other agents, nearest first (zeros when N < 10)

Rewards, unitless, computed after the step (`cooperative_push_rewards`):
  team reward = -|ball - goal| - 0.1 * min_i |p_i - ball|.
  Every agent gets an equal share -|ball - goal| / N; the agent nearest to the ball
  (the lowest index on ties) is also charged the shaping term -0.1 * |p_i - ball|.
  The shares sum to the team reward.
"""

from __future__ import annotations

import numpy as np

from keras_ip._checks import check_int
from keras_ip.envs.particles.base import ParticleParallelEnv
from keras_ip.envs.particles.batch import ParticleBatch
from keras_ip.envs.particles.cooperative_navigation import world_radius
from keras_ip.envs.particles.neighbours import nearest_offsets, offsets_and_distances
from keras_ip.envs.particles.world import ParticleWorld

AGENT_SIZE = 0.1
BALL_SIZE = 0.3
BALL_MASS = 8.0
GOAL_SIZE = 0.05  # the goal does not collide; only for drawing
SHAPING = 0.1
NUM_AGENT_NEIGHBORS = 9
OBS_DIM = 4 + 4 + 2 + 2 * NUM_AGENT_NEIGHBORS  # 28


def cooperative_push_rewards(ball_goal_distance: np.ndarray, ball_distances: np.ndarray) -> np.ndarray:
    """Per-agent rewards whose sum is the team reward (see the module docstring).

    Args:
      ball_goal_distance: float [K], |ball - goal| in each copy.
      ball_distances: float [K, N], |p_i - ball|.

    Returns:
      float32 [K, N]: -|ball - goal| / N, minus 0.1 * |p_i - ball| for each copy's nearest agent.
    """
    num_copies, num_agents = ball_distances.shape
    rewards = np.repeat(-ball_goal_distance[:, None] / num_agents, num_agents, axis=1)  # [K, N]
    nearest = ball_distances.argmin(axis=1)  # [K], the first of equals
    copies = np.arange(num_copies)
    rewards[copies, nearest] -= SHAPING * ball_distances[copies, nearest]
    return rewards.astype(np.float32)


class CooperativePushBatch(ParticleBatch):
    """K copies of cooperative push with N agents, one ball and one goal, on numpy arrays.

    Entities: agents 0 .. N - 1, the ball (entity N), the goal (entity N + 1).

    Example:
      >>> batch = CooperativePushBatch(num_envs=4, n=30, seed=0)
      >>> batch.reset().shape
      (4, 30, 28)
      >>> observations, rewards, terminated, truncated = batch.step(np.zeros((4, 30), int))

    Init args:
      num_envs: K >= 1 copies; copy k of a batch seeded with s is seeded with s + k.
      n: N >= 1 agents.
      continuous: False: actions int [K, N] in 0..4 (no-op, left, right, down, up);
        True: actions float [K, N, 2] in [-1, 1], force directions (x, y).
      max_cycles: steps per episode; all agents are truncated at the last (no auto-reset).
      seed: None or int >= 0, the seed of the first reset.

    `reset(seed=None)` -> observations float32 [K, N, 28]; `step(actions)` ->
    (observations float32 [K, N, 28], rewards float32 [K, N], terminated bool [K, N]
    (always False), truncated bool [K, N]); `set_state(positions, velocities)` with float
    [K, N + 2, 2] arrays -> observations.
    """

    def __init__(self, num_envs: int, n: int, continuous: bool = False, max_cycles: int = 25, seed=None):
        self.n = check_int("n", n)
        self.radius = world_radius(self.n)
        world = ParticleWorld(num_envs, self.n, size=[AGENT_SIZE] * self.n + [BALL_SIZE, GOAL_SIZE],
                              movable=[True] * self.n + [True, False], collide=[True] * self.n + [True, False],
                              mass=[1.0] * self.n + [BALL_MASS, 1.0])
        super().__init__(world, OBS_DIM, continuous, max_cycles, seed)

    def _initial_positions(self, rng: np.random.Generator) -> np.ndarray:
        """Agents uniform in [-R, R]^2, then the ball and the goal in [-(R - 0.3), R - 0.3]^2: float64 [N + 2, 2]."""
        agents = rng.uniform(-self.radius, self.radius, (self.n, 2))
        inner = self.radius - BALL_SIZE
        return np.concatenate([agents, rng.uniform(-inner, inner, (2, 2))])

    def _evaluate(self) -> tuple[np.ndarray, np.ndarray]:
        n = self.n
        agents = self.world.positions[:, :n]  # [K, N, 2]
        ball, goal = self.world.positions[:, n], self.world.positions[:, n + 1]  # [K, 2] each
        agent_offsets, agent_distances = offsets_and_distances(agents)  # [2, K, N, N], [K, N, N] (inf diagonal)
        to_ball = ball[:, None] - agents  # [K, N, 2]
        observations = np.empty((self.num_envs, n, OBS_DIM), np.float32)
        observations[..., 0:2] = self.world.velocities[:, :n]
        observations[..., 2:4] = agents
        observations[..., 4:6] = to_ball
        observations[..., 6:8] = self.world.velocities[:, None, n]
        observations[..., 8:10] = goal[:, None] - agents
        observations[..., 10:28] = nearest_offsets(agent_offsets, agent_distances, NUM_AGENT_NEIGHBORS)
        ball_goal_distance = np.sqrt(np.square(ball - goal).sum(axis=-1))  # [K]
        ball_distances = np.sqrt(np.square(to_ball).sum(axis=-1))  # [K, N]
        return observations, cooperative_push_rewards(ball_goal_distance, ball_distances)


class CooperativePush(ParticleParallelEnv):
    """Cooperative push as a PettingZoo `ParallelEnv` (one copy of `CooperativePushBatch`).

    Example:
      >>> env = CooperativePush(n=15)
      >>> observations, infos = env.reset(seed=0)
      >>> observations["agent_0"].shape
      (28,)

    Init args:
      n: number of agents, >= 1.
      continuous: Discrete(5) actions if False, Box(-1, 1, (2,), float32) if True.
      max_cycles: steps per episode (default 25, as in mpe2).
      render_mode: must be None.
    """

    metadata = {"name": "cooperative_push_v0", "render_modes": [], "is_parallelizable": True}

    def __init__(self, n: int = 15, continuous: bool = False, max_cycles: int = 25, render_mode: str | None = None):
        super().__init__(CooperativePushBatch(1, n, continuous, max_cycles), render_mode)
        self.n = self.batch.n
