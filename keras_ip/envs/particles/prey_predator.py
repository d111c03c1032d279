"""Prey and predator (paper appendix D.2): N slow predators chase scripted, faster prey among obstacles.

mpe2's `simple_tag` physics at scale: N learning predators (mpe2's adversaries: size
0.075, accel 3, max_speed 1.0), P = max(1, N // 3) scripted prey (size 0.05, accel 4,
max_speed 1.3) and L = max(2, N // 5) large landmarks (size 0.2) that do not move. All of
them collide, so the landmarks impede predators and prey alike. Predators and prey start
uniform in [-R, R]^2, R = `world_radius(N)` (as in cooperative navigation), landmarks in
[-0.9 R, 0.9 R]^2 (mpe2's ranges at R = 1). Only the predators are PettingZoo agents.

Prey policy (`prey_directions`), before every step: full force (accel 4) straight away
from the nearest predator; but on each axis where the prey is beyond 0.9 R from the
centre, the force on that axis points back to the centre instead (mpe2 penalises its
prey for leaving the same band; ours are steered back).

Observation of predator i, float32 [34] whatever N (appendix D.2):
  [0:2]   own velocity (vx, vy)
  [2:4]   own position (x, y)
  [4:14]  positions of the 5 nearest landmarks relative to predator i, nearest first
  [14:24] positions of the 5 nearest prey relative to predator i (prey - predator), nearest first
  [24:34] velocities (vx, vy) of the same 5 prey, in the same order
Slots without an entity (fewer than 5 landmarks or prey) hold zeros.

Rewards, unitless, computed after the step (`prey_predator_rewards`):
  predator i gets +10 for every prey it touches (|p_i - q_j| < 0.075 + 0.05, mpe2's
  `is_collision`) and -0.1 * (distance to its nearest prey), the shaping of the PIC
  variant taken per predator. Team reward = the sum = 10 * (touching predator-prey pairs)
  - 0.1 * sum_i min_j |p_i - q_j|.
"""

from __future__ import annotations

import numpy as np

from keras_ip._checks import check_int
from keras_ip.envs.particles.base import ParticleParallelEnv
from keras_ip.envs.particles.batch import ParticleBatch
from keras_ip.envs.particles.cooperative_navigation import world_radius
from keras_ip.envs.particles.neighbours import nearest_indices, nearest_offsets, offsets_and_distances
from keras_ip.envs.particles.world import ParticleWorld

PREDATOR = {"size": 0.075, "accel": 3.0, "max_speed": 1.0}
PREY = {"size": 0.05, "accel": 4.0, "max_speed": 1.3}
LANDMARK_SIZE = 0.2
CATCH_REWARD = 10.0
SHAPING = 0.1
BOUND = 0.9  # prey beyond BOUND * R on an axis steer back on that axis
NUM_LANDMARK_NEIGHBORS = 5
NUM_PREY_NEIGHBORS = 5
OBS_DIM = 4 + 2 * NUM_LANDMARK_NEIGHBORS + 4 * NUM_PREY_NEIGHBORS  # 34


def num_prey(n: int) -> int:
    """P = max(1, N // 3) prey for N predators."""
    return max(1, check_int("n", n) // 3)


def num_landmarks(n: int) -> int:
    """L = max(2, N // 5) landmarks for N predators."""
    return max(2, check_int("n", n) // 5)


def prey_directions(prey: np.ndarray, predators: np.ndarray, radius: float) -> np.ndarray:
    """The scripted prey's force directions (see the module docstring).

    Args:
      prey: float [K, P, 2] positions.
      predators: float [K, N, 2] positions, N >= 1.
      radius: R; beyond BOUND * R on an axis, a prey heads back to the centre on it.

    Returns:
      float64 [K, P, 2] directions in [-1, 1]^2: the unit vector away from the nearest
      predator (zero on top of it), with the out-of-bound axes replaced by -sign(position).
    """
    offsets, distances = offsets_and_distances(prey, predators)  # [2, K, P, N], [K, P, N]
    nearest = distances.argmin(axis=2)  # [K, P]
    threat = np.take_along_axis(offsets, nearest[None, ..., None], axis=3)[..., 0]  # [2, K, P], predator - prey
    gap = np.take_along_axis(distances, nearest[..., None], axis=2)  # [K, P, 1]
    away = -np.moveaxis(threat, 0, -1)  # [K, P, 2]
    flee = np.divide(away, gap, out=np.zeros_like(away), where=gap > 0)  # [K, P, 2], unit or zero
    return np.where(np.abs(prey) > BOUND * radius, -np.sign(prey), flee)


def prey_predator_rewards(prey_distances: np.ndarray) -> np.ndarray:
    """Per-predator rewards whose sum is the team reward (see the module docstring).

    Args:
      prey_distances: float [K, N, P], distance from predator i to prey j.

    Returns:
      float32 [K, N]: 10 * (prey touching predator i) - 0.1 * (distance to its nearest prey).
    """
    caught = (prey_distances < PREDATOR["size"] + PREY["size"]).sum(axis=2)  # [K, N]
    return (CATCH_REWARD * caught - SHAPING * prey_distances.min(axis=2)).astype(np.float32)


class PreyPredatorBatch(ParticleBatch):
    """K copies of prey and predator: N predators, P scripted prey, L landmarks, on numpy arrays.

    Entities: predators 0 .. N - 1, prey N .. N + P - 1, then the landmarks. The world's
    N + P acting entities are the predators and the prey; `num_agents` is N.

    Example:
      >>> batch = PreyPredatorBatch(num_envs=4, n=30, seed=0)
      >>> batch.reset().shape, batch.num_prey, batch.num_landmarks
      ((4, 30, 34), 10, 6)
      >>> observations, rewards, terminated, truncated = batch.step(np.zeros((4, 30), int))

    Init args:
      num_envs: K >= 1 copies; copy k of a batch seeded with s is seeded with s + k.
      n: N >= 1 predators.
      continuous: False: actions int [K, N] in 0..4 (no-op, left, right, down, up);
        True: actions float [K, N, 2] in [-1, 1], force directions (x, y).
      max_cycles: steps per episode; all predators are truncated at the last (no auto-reset).
      seed: None or int >= 0, the seed of the first reset.

    `reset(seed=None)` -> observations float32 [K, N, 34]; `step(actions)` ->
    (observations float32 [K, N, 34], rewards float32 [K, N], terminated bool [K, N]
    (always False), truncated bool [K, N]); `set_state(positions, velocities)` with float
    [K, N + P + L, 2] arrays -> observations; `agent_positions()` -> the predators' [K, N, 2].
    """

    def __init__(self, num_envs: int, n: int, continuous: bool = False, max_cycles: int = 25, seed=None):
        self.n = check_int("n", n)
        self.num_prey, self.num_landmarks = num_prey(self.n), num_landmarks(self.n)
        self.radius = world_radius(self.n)
        actors = self.n + self.num_prey

        def per_actor(key):  # the predators' value, then the prey's
            return [PREDATOR[key]] * self.n + [PREY[key]] * self.num_prey

        world = ParticleWorld(num_envs, actors, size=per_actor("size") + [LANDMARK_SIZE] * self.num_landmarks,
                              movable=[True] * actors + [False] * self.num_landmarks, collide=True,
                              max_speed=per_actor("max_speed") + [None] * self.num_landmarks,
                              accel=per_actor("accel"))
        super().__init__(world, OBS_DIM, continuous, max_cycles, seed)
        self.num_agents = self.n  # the predators; the prey act by `prey_directions`

    def directions(self, actions) -> np.ndarray:
        """Checks the predators' actions; returns the force directions of predators and prey, float64 [K, N + P, 2]."""
        prey = self.world.positions[:, self.n:self.n + self.num_prey]  # [K, P, 2]
        scripted = prey_directions(prey, self.world.positions[:, :self.n], self.radius)
        return np.concatenate([super().directions(actions), scripted], axis=1)

    def _initial_positions(self, rng: np.random.Generator) -> np.ndarray:
        """Predators and prey in [-R, R]^2, landmarks in [-0.9 R, 0.9 R]^2: float64 [N + P + L, 2]."""
        actors = rng.uniform(-self.radius, self.radius, (self.n + self.num_prey, 2))
        landmarks = rng.uniform(-BOUND * self.radius, BOUND * self.radius, (self.num_landmarks, 2))
        return np.concatenate([actors, landmarks])

    def _evaluate(self) -> tuple[np.ndarray, np.ndarray]:
        n, prey = self.n, slice(self.n, self.n + self.num_prey)
        predators = self.world.positions[:, :n]  # [K, N, 2]
        landmark_offsets, landmark_distances = offsets_and_distances(predators, self.world.positions[:, prey.stop:])
        prey_offsets, prey_distances = offsets_and_distances(predators, self.world.positions[:, prey])  # [2, K, N, P]
        take = min(NUM_PREY_NEIGHBORS, self.num_prey)
        index = nearest_indices(prey_distances, take)  # [K, N, take]
        seen_offsets = np.take_along_axis(prey_offsets, index[None], axis=3)  # [2, K, N, take]
        seen_velocities = np.take_along_axis(self.world.velocities[:, None, prey], index[..., None], axis=2)
        observations = np.zeros((self.num_envs, n, OBS_DIM), np.float32)
        observations[..., 0:2] = self.world.velocities[:, :n]
        observations[..., 2:4] = predators
        observations[..., 4:14] = nearest_offsets(landmark_offsets, landmark_distances, NUM_LANDMARK_NEIGHBORS)
        observations[..., 14:14 + 2 * take] = seen_offsets.transpose(1, 2, 3, 0).reshape(self.num_envs, n, 2 * take)
        observations[..., 24:24 + 2 * take] = seen_velocities.reshape(self.num_envs, n, 2 * take)
        return observations, prey_predator_rewards(prey_distances)


class PreyPredator(ParticleParallelEnv):
    """Prey and predator as a PettingZoo `ParallelEnv` (one copy of `PreyPredatorBatch`).

    The agents "agent_0" .. "agent_{N-1}" are the predators; the prey are scripted.

    Example:
      >>> env = PreyPredator(n=15)
      >>> observations, infos = env.reset(seed=0)
      >>> observations["agent_0"].shape, env.batch.num_prey
      ((34,), 5)

    Init args:
      n: number of predators, >= 1 (with max(1, n // 3) prey and max(2, n // 5) landmarks).
      continuous: Discrete(5) actions if False, Box(-1, 1, (2,), float32) if True.
      max_cycles: steps per episode (default 25, as in mpe2).
      render_mode: must be None.
    """

    metadata = {"name": "prey_predator_v0", "render_modes": [], "is_parallelizable": True}

    def __init__(self, n: int = 15, continuous: bool = False, max_cycles: int = 25, render_mode: str | None = None):
        super().__init__(PreyPredatorBatch(1, n, continuous, max_cycles), render_mode)
        self.n = self.batch.n
