"""A particle world batched over K environment copies, step for step equal to mpe2's `World`.

mpe2 (the maintained Multi-Agent Particle Environment) moves each entity with one Python
call per entity and per pair. `ParticleWorld` holds the same state as numpy arrays,
positions and velocities float64 [K, M, 2] for K copies of a world of M entities (the
A agents first, then landmarks and other entities), and runs mpe2's `World.step` on all
of them at once:

1. action force: u_i for every movable agent (mpe2's `apply_action_force`; motor noise
   `u_noise` is always None, as in every mpe2 scenario);
2. contact forces (mpe2's `apply_environment_force`): for every pair i != j of colliding
   entities, F_ij = contact_force * (p_i - p_j) / |p_i - p_j| * penetration with the
   softplus penetration = k * log(1 + exp(-(|p_i - p_j| - size_i - size_j) / k)),
   k = contact_margin; the total force f_i = u_i + sum_j F_ij is summed in mpe2's order
   (u_i first, then j = 0, 1, ...), so that states equal mpe2's bit for bit in our tests
   (two colliders at exactly the same point get NaN forces, as in mpe2);
3. integration (mpe2's `integrate_state`), for movable entities only:
   p <- p + v * dt; v <- v * (1 - damping) + (f / mass) * dt; then, if |v| > max_speed,
   v <- v / |v| * max_speed.

Finding the touching pairs costs O(C^2) per step and copy for C colliders (squared
distances of all 40k pairs of 200 colliding agents: well under a millisecond); forces are
then computed only for pairs closer than size_i + size_j + 750 * contact_margin (beyond,
the softplus underflows and mpe2's force is exactly zero). Entities that do not collide
(the landmarks of cooperative navigation) are left out.

Actions. A discrete action a in {0, 1, 2, 3, 4} means (no-op, left, right, down, up),
the direction `DISCRETE_DIRECTIONS[a]`; a continuous action is our own direction
d in [-1, 1]^2 (x, y). Either way the action force is u = accel * d, mpe2's
`sensitivity` (5.0 unless the agent sets `accel`). mpe2's continuous actions are
5-vectors in [0, 1]^5 whose force direction is (a[2] - a[1], a[4] - a[3]);
`mpe2_continuous_to_direction` maps them to ours exactly.
"""

from __future__ import annotations

import numpy as np

from keras_ip._checks import check_int

DISCRETE_DIRECTIONS = np.array([[0.0, 0.0], [-1.0, 0.0], [1.0, 0.0], [0.0, -1.0], [0.0, 1.0]])  # [5, 2]
"""Unit directions of mpe2's discrete actions: no-op, left, right, down, up."""

MPE2_SENSITIVITY = 5.0
"""mpe2's default action force scale (`sensitivity` in `SimpleEnv._set_action`)."""

_ZERO_FORCE_MARGINS = 750.0  # exp(-750) underflows to 0: beyond dist_min + 750 * contact_margin, F_ij = 0 exactly


def mpe2_continuous_to_direction(actions) -> np.ndarray:
    """Converts mpe2 continuous actions, float [..., 5] in [0, 1], to our directions float32 [..., 2].

    mpe2 clips each action to [0, 1] (its `ClipOutOfBoundsWrapper`), then takes the force
    direction (a[2] - a[1], a[4] - a[3]) in the action's dtype; this does the same, so
    `accel * direction` is exactly mpe2's action force for float32 actions.
    """
    actions = np.clip(np.asarray(actions, np.float32), 0.0, 1.0)  # [..., 5]
    if actions.shape[-1:] != (5,):
        raise ValueError(f"mpe2 continuous actions must end in a dimension of size 5. Received: shape={actions.shape}")
    return np.stack([actions[..., 2] - actions[..., 1], actions[..., 4] - actions[..., 3]], axis=-1)


def _per_entity(name: str, value, count: int, dtype) -> np.ndarray:
    """`value` (a scalar or a sequence of `count` values) as an array [count] of `dtype`."""
    array = np.broadcast_to(np.asarray(value, dtype), (count,)) if np.ndim(value) == 0 else np.asarray(value, dtype)
    if array.shape != (count,):
        raise ValueError(f"{name} must be a scalar or have one value per entity ({count}). Received: "
                         f"{name} with shape {array.shape}")
    return array.copy()


def _index(mask: np.ndarray):
    """The positions where `mask` is True: a slice when they are one run (a cheap view), else an array."""
    where = np.flatnonzero(mask)
    if where.size and where[-1] - where[0] + 1 == where.size:
        return slice(int(where[0]), int(where[-1]) + 1)
    return where


class ParticleWorld:
    """K copies of an mpe2 particle world, stepped together with numpy.

    Example:
      >>> world = ParticleWorld(num_envs=2, num_agents=2, size=[0.15, 0.15, 0.05],
      ...                       movable=[True, True, False], collide=[True, True, False])
      >>> world.positions[:, 1, 0] = 0.2                       # agent 1 at (0.2, 0), overlapping agent 0
      >>> world.step(world.action_force(np.zeros((2, 2, 2))))  # [K, A, 2] directions
      >>> bool(world.velocities[0, 0, 0] < 0 < world.velocities[0, 1, 0])  # pushed apart
      True

    Init args:
      num_envs: K, the number of copies, >= 1.
      num_agents: A >= 0; entities 0 .. A - 1 are the agents, the ones actions act on.
      size: float [M] radii (mpe2 `Entity.size`); M = len(size) entities in all.
      movable, collide: bool [M] (mpe2 `Entity.movable`, `Entity.collide`), or one bool for all.
      mass: float [M] or one float (mpe2 `Entity.mass`, default 1.0).
      max_speed: float [M] or one float; None or inf means no limit (mpe2's None).
      accel: float [A] or one float, the action force per unit direction (mpe2's
        `sensitivity`, 5.0 by default, or the agent's `accel`).
      dt, damping, contact_force, contact_margin: mpe2's `World` constants (0.1, 0.25, 100, 1e-3).

    Attributes:
      positions, velocities: float64 [K, M, 2], the state; write them or use `set_state`.
      The init args, as float64 / bool arrays of one value per entity (accel: per agent).
    """

    def __init__(self, num_envs: int, num_agents: int, size, movable=True, collide=True, mass=1.0,
                 max_speed=None, accel=MPE2_SENSITIVITY, dt: float = 0.1, damping: float = 0.25,
                 contact_force: float = 100.0, contact_margin: float = 1e-3):
        self.num_envs = check_int("num_envs", num_envs)
        self.size = np.asarray(size, np.float64).reshape(-1)  # [M]
        self.num_entities = self.size.size
        self.num_agents = check_int("num_agents", num_agents, minimum=0)
        if self.num_agents > self.num_entities:
            raise ValueError(f"num_agents must be at most the number of entities ({self.num_entities}). "
                             f"Received: num_agents={num_agents}")
        self.movable = _per_entity("movable", movable, self.num_entities, bool)
        self.collide = _per_entity("collide", collide, self.num_entities, bool)
        self.mass = _per_entity("mass", mass, self.num_entities, np.float64)
        self.max_speed = _per_entity("max_speed", np.inf if max_speed is None else max_speed, self.num_entities,
                                     np.float64)
        self.max_speed[np.isnan(self.max_speed)] = np.inf
        self.accel = _per_entity("accel", accel, self.num_agents, np.float64)
        self.dt, self.damping = float(dt), float(damping)
        self.contact_force, self.contact_margin = float(contact_force), float(contact_margin)
        self.positions = np.zeros((self.num_envs, self.num_entities, 2))  # [K, M, 2]
        self.velocities = np.zeros((self.num_envs, self.num_entities, 2))  # [K, M, 2]
        self._colliders = _index(self.collide)
        self._movable = _index(self.movable)
        self._num_colliders = int(self.collide.sum())
        collider_size = self.size[self.collide]  # [C]
        self._dist_min = collider_size[:, None] + collider_size[None, :]  # [C, C]
        reach = self._dist_min + _ZERO_FORCE_MARGINS * self.contact_margin  # [C, C]
        self._reach = np.where(np.eye(self._num_colliders, dtype=bool), -1.0, np.square(reach))  # [C, C], squared
        self._limited = bool(np.isfinite(self.max_speed[self.movable]).any())

    def set_state(self, positions, velocities) -> None:
        """Sets every copy's state from finite float arrays [K, M, 2] (copied)."""
        expected = (self.num_envs, self.num_entities, 2)
        for name, value in (("positions", positions), ("velocities", velocities)):
            array = np.asarray(value, np.float64)
            if array.shape != expected:
                raise ValueError(f"{name} must have shape {expected} (copies, entities, xy). Received: "
                                 f"shape={array.shape}")
            if not np.isfinite(array).all():
                raise ValueError(f"{name} must be finite. Received: {name} with NaN or infinite values")
        self.positions = np.array(positions, np.float64)
        self.velocities = np.array(velocities, np.float64)

    def action_force(self, directions: np.ndarray) -> np.ndarray:
        """u = accel * direction: float [K, A, 2] directions -> float64 [K, A, 2] forces (zero if immovable)."""
        return directions * (self.accel * self.movable[:self.num_agents])[:, None]

    def step(self, action_force: np.ndarray) -> None:
        """One mpe2 `World.step` in every copy, given the agents' action forces float [K, A, 2]."""
        force = np.zeros_like(self.positions)  # [K, M, 2]
        force[:, :self.num_agents] = action_force
        if self._num_colliders > 1:
            force[:, self._colliders] = self._add_contact_forces(force[:, self._colliders])
        self._integrate(force)

    def _add_contact_forces(self, force: np.ndarray) -> np.ndarray:
        """f_i + sum_j F_ij over the colliders, summed in mpe2's order: float [K, C, 2] -> float64 [K, C, 2].

        Only pairs closer than `self._reach` get a force; beyond it the softplus
        underflows and mpe2's force is exactly zero too.
        """
        num_copies, num_colliders = force.shape[:2]
        p = self.positions[:, self._colliders]  # [K, C, 2]
        dx = p[:, :, None, 0] - p[:, None, :, 0]  # [K, C_i, C_j], x_i - x_j
        dy = p[:, :, None, 1] - p[:, None, :, 1]  # [K, C_i, C_j]
        squared = np.square(dx) + np.square(dy)  # [K, C_i, C_j]
        pair = np.flatnonzero(squared < self._reach)  # [P], flat (k, i, j) in row-major order
        dist = np.sqrt(squared.reshape(-1)[pair])  # [P]
        k = self.contact_margin
        penetration = np.logaddexp(0.0, -(dist - self._dist_min.reshape(-1)[pair % num_colliders**2]) / k) * k
        receiver = pair // num_colliders  # [P], flat (k, i)
        # bincount adds in input order: f_i first, then F_ij for j = 0, 1, ..., as mpe2 does.
        bins = np.concatenate([np.arange(num_copies * num_colliders), receiver])
        total = np.empty_like(force, dtype=np.float64)  # [K, C, 2]
        for axis, delta in enumerate((dx, dy)):
            pair_force = self.contact_force * delta.reshape(-1)[pair] / dist * penetration  # [P]
            weights = np.concatenate([force[..., axis].reshape(-1), pair_force])
            total[..., axis] = np.bincount(bins, weights, minlength=total[..., 0].size).reshape(total.shape[:2])
        return total

    def _integrate(self, force: np.ndarray) -> None:
        """mpe2's `integrate_state` for the movable entities, given the total forces [K, M, 2]."""
        movable = self._movable
        velocity = self.velocities[:, movable]  # [K, B, 2]
        self.positions[:, movable] = self.positions[:, movable] + velocity * self.dt
        velocity = velocity * (1 - self.damping)
        velocity += (force[:, movable] / self.mass[movable, None]) * self.dt
        if self._limited:
            max_speed = self.max_speed[movable, None]  # [B, 1]
            speed = np.sqrt(np.square(velocity[..., 0]) + np.square(velocity[..., 1]))[..., None]  # [K, B, 1]
            with np.errstate(divide="ignore", invalid="ignore"):
                clipped = velocity / speed * max_speed
            velocity = np.where(speed > max_speed, clipped, velocity)
        self.velocities[:, movable] = velocity
