"""The base of batched particle scenarios: K world copies, their seeds, one episode clock, action checks.

A scenario subclasses `ParticleBatch`, builds its `ParticleWorld` and implements two hooks:

  _initial_positions(rng) -> float64 [M, 2], one copy's entity positions at reset
      (velocities start at zero, as in every mpe2 scenario);
  _evaluate() -> (observations float32 [K, N, obs_dim], rewards float32 [K, N]),
      read from `self.world` after a reset or a step.

Seeds. Copy k draws its initial states from its own `np.random.default_rng(seed + k)`, so
copy k of a batch seeded with s starts every episode exactly like a one-copy batch (or a
`ParticleParallelEnv`) seeded with s + k. Without a seed, each copy gets fresh entropy.

Episodes. All copies share one clock: `step` counts cycles and reports every agent of
every copy truncated at cycle `max_cycles`; stepping on raises RuntimeError until `reset()`
(there is no auto-reset). Particle scenarios never terminate early unless a subclass
overrides `_terminated`.
"""

from __future__ import annotations

import numpy as np

from keras_ip._checks import check_int
from keras_ip.envs.particles.world import DISCRETE_DIRECTIONS, ParticleWorld


def copy_generators(seed, num_envs: int) -> list[np.random.Generator]:
    """One generator per copy: default_rng(seed + k) for copy k, or fresh entropy when seed is None."""
    if seed is None:
        return [np.random.default_rng() for _ in range(num_envs)]
    seed = check_int("seed", seed, minimum=0)
    return [np.random.default_rng(seed + k) for k in range(num_envs)]


class ParticleBatch:
    """K copies of a particle scenario, stepped together on numpy arrays.

    Init args:
      world: the scenario's `ParticleWorld` (K copies, N = world.num_agents agents).
      obs_dim: size of one agent's observation.
      continuous: False for discrete actions in {0, ..., 4} (no-op, left, right, down,
        up), True for directions in [-1, 1]^2 (see `keras_ip.envs.particles.world`).
      max_cycles: steps per episode, >= 1.
      seed: None or an int >= 0, the seed of the first reset (see the module docstring).

    Attributes:
      world: the `ParticleWorld`.
      num_envs: K, the number of copies.
      num_agents: N, agents per copy.
      obs_dim: size of one agent's observation.
      continuous: whether actions are directions in [-1, 1]^2.
      max_cycles: steps per episode (settable).
      cycle: steps taken in the episode; None before the first reset.
    """

    def __init__(self, world: ParticleWorld, obs_dim: int, continuous: bool, max_cycles: int, seed=None):
        self.world = world
        self.num_envs = world.num_envs
        self.num_agents = world.num_agents
        self.obs_dim = check_int("obs_dim", obs_dim)
        self.continuous = bool(continuous)
        self.max_cycles = max_cycles
        self._rngs = copy_generators(seed, self.num_envs)
        self.cycle = None

    @property
    def max_cycles(self) -> int:
        """Steps per episode; every agent is truncated at this step."""
        return self._max_cycles

    @max_cycles.setter
    def max_cycles(self, value: int) -> None:
        self._max_cycles = check_int("max_cycles", value)

    def reset(self, seed=None) -> np.ndarray:
        """Starts an episode in every copy; returns observations float32 [K, N, obs_dim].

        With a seed, copy k is reseeded with seed + k; without, the copies' generators go on.
        """
        if seed is not None:
            self._rngs = copy_generators(seed, self.num_envs)
        positions = np.stack([self._initial_positions(rng) for rng in self._rngs])  # [K, M, 2]
        self.world.set_state(positions, np.zeros_like(positions))
        self.cycle = 0
        return self._evaluate()[0]

    def step(self, actions) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Applies one action per agent and copy, then steps the world once.

        Args:
          actions: discrete: int [K, N] in {0, ..., 4}; continuous: float [K, N, 2] in [-1, 1].

        Returns:
          observations: float32 [K, N, obs_dim].
          rewards: float32 [K, N].
          terminated: bool [K, N].
          truncated: bool [K, N], all True at step `max_cycles`.
        """
        if self.cycle is None or self.cycle >= self.max_cycles:
            raise RuntimeError("The episode is over (or was never started); call reset() before step().")
        directions = self.directions(actions)  # [K, N, 2]
        self.world.step(self.world.action_force(directions))
        self.cycle += 1
        observations, rewards = self._evaluate()
        truncated = np.full((self.num_envs, self.num_agents), self.cycle >= self.max_cycles)
        return observations, rewards, self._terminated(), truncated

    def observations(self) -> np.ndarray:
        """The agents' current observations, float32 [K, N, obs_dim]."""
        return self._evaluate()[0]

    def set_state(self, positions, velocities) -> np.ndarray:
        """Overwrites the world state (float [K, M, 2] each; the episode clock is kept); returns observations."""
        self.world.set_state(positions, velocities)
        return self.observations()

    def agent_positions(self) -> np.ndarray:
        """The agents' positions, float64 [K, N, 2] (a copy)."""
        return self.world.positions[:, :self.num_agents].copy()

    def directions(self, actions) -> np.ndarray:
        """Checks actions and returns their force directions, float64 [K, N, 2]; raises ValueError."""
        actions = np.asarray(actions)
        shape = (self.num_envs, self.num_agents) + ((2,) if self.continuous else ())
        kind = "a float array" if self.continuous else "an integer array"
        if actions.shape != shape:
            raise ValueError(f"actions must be {kind} of shape {shape} (copies, agents{', xy' if self.continuous else ''})"
                             f". Received: shape={actions.shape}")
        if not self.continuous:
            if not np.issubdtype(actions.dtype, np.integer):
                raise ValueError(f"Discrete actions must be integers in 0..4. Received: dtype={actions.dtype}")
            _raise_first_bad(actions, (actions < 0) | (actions > 4), "Discrete actions must be in 0..4 "
                                                                     "(no-op, left, right, down, up)")
            return DISCRETE_DIRECTIONS[actions]
        if not (np.issubdtype(actions.dtype, np.floating) or np.issubdtype(actions.dtype, np.integer)):
            raise ValueError(f"Continuous actions must be real numbers. Received: dtype={actions.dtype}")
        _raise_first_bad(actions, ~(np.abs(actions) <= 1.0), "Continuous actions must be finite numbers in [-1, 1]")
        return actions.astype(np.float64)

    def _terminated(self) -> np.ndarray:
        """bool [K, N]; particle scenarios have no terminal states by default."""
        return np.zeros((self.num_envs, self.num_agents), bool)

    def _initial_positions(self, rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError

    def _evaluate(self) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError


def _raise_first_bad(actions: np.ndarray, bad: np.ndarray, message: str) -> None:
    """Raises ValueError(message) naming the copy and agent of the first True in `bad`, if any."""
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"{message}. Received: actions[copy {where[0]}, agent {where[1]}]="
                         f"{actions[where[:2]].tolist()!r}")
