"""Heterogeneous navigation (paper appendix D.2): big slow and small fast agents cover N landmarks.

Cooperative navigation (`cooperative_navigation`) with two kinds of agents: the first
N // 2 are big and slow, the other N - N // 2 small and fast, the PIC variant's split
(github.com/IouJenLiu/PIC, `hetero_spread_*`). Their mpe2 physics (unitless, dt = 0.1):

  group   size   mass   accel   max_speed   terminal speed (accel / mass * dt / damping)
  big     0.2    2.0    3.0     1.0         0.6
  small   0.1    1.0    4.0     1.3         1.3 (capped)

(accel and max_speed are PIC's and mpe2 simple_tag's slow/fast values; sizes are PIC's
ratio 2 at cooperative navigation's scale; the mass makes big agents shove small ones.)
All agents collide; landmarks neither move nor collide. Agents and landmarks start
uniform in [-R, R]^2, R = `world_radius(N)`, as in cooperative navigation.

Agents are named "big_0" .. "big_{B-1}", then "small_0" .. "small_{S-1}", so that
`keras_ip.envs.ParallelEnvAdapter` sees the groups ["big", "small"] (one encoder each).

Observation of agent i, float32 [26] whatever N (appendix D.2's 26 values; the agent
slots are split by group so that each agent sees who is big without extra values):
  [0:2]   own velocity (vx, vy)
  [2:4]   own position (x, y)
  [4:14]  positions of the 5 nearest landmarks relative to agent i (landmark - agent), nearest first
  [14:20] relative positions of the 3 nearest other big agents, nearest first
  [20:26] relative positions of the 3 nearest other small agents, nearest first
Slots without an entity (fewer landmarks or other agents of a group) hold zeros.

Rewards, unitless, computed after the step (`heterogeneous_navigation_rewards`): as in
cooperative navigation, with `reward="local"` (default) each agent pays its distance to its
own nearest landmark and with `reward="coverage"` each landmark's distance is charged to its
nearest agent (the shares then sum to -sum_l min_i |p_i - q_l| plus the penalties). On top:
-1 per agent of its own group an agent collides with, and, for a small agent only, -10 per
big agent it touches (the big agent is not charged), where i and j collide when
|p_i - p_j| < size_i + size_j.
"""

from __future__ import annotations

import numpy as np

from keras_ip._checks import check_int
from keras_ip.envs.particles.base import ParticleParallelEnv
from keras_ip.envs.particles.batch import ParticleBatch
from keras_ip.envs.particles.cooperative_navigation import (CooperativeNavigationBatch, check_reward,
                                                             cooperative_navigation_rewards, world_radius)
from keras_ip.envs.particles.neighbours import nearest_offsets, offsets_and_distances
from keras_ip.envs.particles.world import ParticleWorld

BIG = {"size": 0.2, "mass": 2.0, "accel": 3.0, "max_speed": 1.0}
SMALL = {"size": 0.1, "mass": 1.0, "accel": 4.0, "max_speed": 1.3}
LANDMARK_SIZE = 0.05  # landmarks do not collide; only for drawing
CROSS_COLLISION_PENALTY = 10.0
NUM_LANDMARK_NEIGHBORS = 5
NUM_GROUP_NEIGHBORS = 3  # per group
OBS_DIM = 4 + 2 * NUM_LANDMARK_NEIGHBORS + 2 * 2 * NUM_GROUP_NEIGHBORS  # 26


def heterogeneous_navigation_rewards(landmark_distances: np.ndarray, agent_distances: np.ndarray,
                                     num_big: int, reward: str = "local") -> np.ndarray:
    """Per-agent rewards (see the module docstring).

    Args:
      landmark_distances: float [K, N, L], distance from agent i to landmark l.
      agent_distances: float [K, N, N] between agents (diagonal ignored); agents 0 .. B - 1 are big.
      num_big: B, 0 <= B <= N.
      reward: the distance term, "local" or "coverage", as in cooperative navigation.

    Returns:
      float32 [K, N].
    """
    is_big = np.arange(agent_distances.shape[-1]) < num_big  # [N]
    size = np.where(is_big, BIG["size"], SMALL["size"])  # [N]
    same_group = is_big[:, None] == is_big[None, :]  # [N, N]
    same_group_distance = np.where(same_group, size[:, None] + size[None, :], 0.0)  # [N, N]; 0: never collide
    rewards = cooperative_navigation_rewards(landmark_distances, agent_distances, same_group_distance,
                                             reward)  # [K, N]
    big_touched = (agent_distances[:, num_big:, :num_big] < BIG["size"] + SMALL["size"]).sum(axis=2)  # [K, S]
    rewards[:, num_big:] -= np.float32(CROSS_COLLISION_PENALTY) * big_touched
    return rewards


class HeterogeneousNavigationBatch(ParticleBatch):
    """K copies of heterogeneous navigation: N // 2 big and N - N // 2 small agents, N landmarks.

    Example:
      >>> batch = HeterogeneousNavigationBatch(num_envs=4, n=30, seed=0)
      >>> batch.reset().shape, batch.num_big
      ((4, 30, 26), 15)
      >>> observations, rewards, terminated, truncated = batch.step(np.zeros((4, 30), int))

    Init args:
      num_envs: K >= 1 copies; copy k of a batch seeded with s is seeded with s + k.
      n: N >= 2 agents (agents 0 .. N // 2 - 1 big, the rest small) and N landmarks.
      continuous: False: actions int [K, N] in 0..4 (no-op, left, right, down, up);
        True: actions float [K, N, 2] in [-1, 1], force directions (x, y).
      max_cycles: steps per episode; all agents are truncated at the last (no auto-reset).
      seed: None or int >= 0, the seed of the first reset.

    `reset(seed=None)` -> observations float32 [K, N, 26]; `step(actions)` ->
    (observations float32 [K, N, 26], rewards float32 [K, N], terminated bool [K, N]
    (always False), truncated bool [K, N]); `set_state(positions, velocities)` with float
    [K, 2N, 2] arrays (big agents, small agents, landmarks) -> observations.
    """

    def __init__(self, num_envs: int, n: int, continuous: bool = False, max_cycles: int = 25, seed=None,
                 reward: str = "local"):
        self.reward = check_reward(reward)
        self.n = check_int("n", n, minimum=2)
        self.num_big = self.n // 2
        self.radius = world_radius(self.n)
        num_small = self.n - self.num_big

        def per_agent(key):  # one value per agent: the big ones', then the small ones'
            return [BIG[key]] * self.num_big + [SMALL[key]] * num_small

        world = ParticleWorld(num_envs, self.n, size=per_agent("size") + [LANDMARK_SIZE] * self.n,
                              movable=[True] * self.n + [False] * self.n,
                              collide=[True] * self.n + [False] * self.n,
                              mass=per_agent("mass") + [1.0] * self.n,
                              max_speed=per_agent("max_speed") + [None] * self.n, accel=per_agent("accel"))
        super().__init__(world, OBS_DIM, continuous, max_cycles, seed)

    _initial_positions = CooperativeNavigationBatch._initial_positions  # agents, then landmarks, uniform in [-R, R]^2

    def _evaluate(self) -> tuple[np.ndarray, np.ndarray]:
        n, big = self.n, self.num_big
        agents = self.world.positions[:, :n]  # [K, N, 2]
        landmark_offsets, landmark_distances = offsets_and_distances(agents, self.world.positions[:, n:])
        agent_offsets, agent_distances = offsets_and_distances(agents)  # [2, K, N, N], [K, N, N] (inf diagonal)
        slots = 2 * NUM_GROUP_NEIGHBORS
        observations = np.empty((self.num_envs, n, OBS_DIM), np.float32)
        observations[..., 0:2] = self.world.velocities[:, :n]
        observations[..., 2:4] = agents
        observations[..., 4:14] = nearest_offsets(landmark_offsets, landmark_distances, NUM_LANDMARK_NEIGHBORS)
        observations[..., 14:14 + slots] = nearest_offsets(agent_offsets[..., :big], agent_distances[..., :big],
                                                           NUM_GROUP_NEIGHBORS)
        observations[..., 14 + slots:] = nearest_offsets(agent_offsets[..., big:], agent_distances[..., big:],
                                                         NUM_GROUP_NEIGHBORS)
        return observations, heterogeneous_navigation_rewards(landmark_distances, agent_distances, big, self.reward)


class HeterogeneousNavigation(ParticleParallelEnv):
    """Heterogeneous navigation as a PettingZoo `ParallelEnv` (one copy of `HeterogeneousNavigationBatch`).

    Agents are "big_0" .. "big_{N//2-1}" and "small_0" .. "small_{N-N//2-1}", in the
    batch's agent order (so `agent_positions()` rows follow `possible_agents`).

    Example:
      >>> env = HeterogeneousNavigation(n=4)
      >>> env.possible_agents
      ['big_0', 'big_1', 'small_0', 'small_1']
      >>> observations, infos = env.reset(seed=0)
      >>> observations["small_1"].shape
      (26,)

    Init args:
      n: number of agents (half big, half small) and of landmarks, >= 2.
      continuous: Discrete(5) actions if False, Box(-1, 1, (2,), float32) if True.
      max_cycles: steps per episode (default 25, as in mpe2).
      render_mode: must be None.
    """

    metadata = {"name": "heterogeneous_navigation_v0", "render_modes": [], "is_parallelizable": True}

    def __init__(self, n: int = 16, continuous: bool = False, max_cycles: int = 25, render_mode: str | None = None,
                 reward: str = "local"):
        super().__init__(HeterogeneousNavigationBatch(1, n, continuous, max_cycles, reward=reward), render_mode)
        self.n = self.batch.n
        big = self.batch.num_big
        names = [f"big_{i}" for i in range(big)] + [f"small_{i}" for i in range(self.n - big)]
        self.observation_spaces = dict(zip(names, self.observation_spaces.values()))
        self.action_spaces = dict(zip(names, self.action_spaces.values()))
        self.possible_agents = names  # the base's agent checks and steps read these names
