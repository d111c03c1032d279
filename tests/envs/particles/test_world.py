"""ParticleWorld: equal to mpe2's core World on a mixed world, batching, argument checks."""

import numpy as np
import pytest

core = pytest.importorskip("mpe2._mpe_utils.core")

from keras_ip.envs.particles import DISCRETE_DIRECTIONS, MPE2_SENSITIVITY, ParticleWorld  # noqa: E402

# Agents 0-3 (agent 2 is heavy and slow, agent 3 immovable), then a movable colliding ball,
# a fixed colliding obstacle and a landmark that neither moves nor collides.
SIZE = [0.15, 0.1, 0.3, 0.05, 0.4, 0.2, 0.05]
MOVABLE = [True, True, True, False, True, False, False]
COLLIDE = [True, True, True, True, True, True, False]
MASS = [1.0, 1.0, 3.0, 1.0, 2.0, 1.0, 1.0]
MAX_SPEED = [None, 1.0, 0.5, None, None, None, None]
ACCEL = [5.0, 3.0, 4.0, 5.0]


def mpe2_world(positions, velocities):
    """mpe2's core World with the entities above, in the given state [M, 2]."""
    world = core.World()
    world.agents = [core.Agent() for _ in ACCEL]
    world.landmarks = [core.Landmark() for _ in SIZE[len(ACCEL):]]
    for i, entity in enumerate(world.entities):
        entity.size, entity.movable, entity.collide = SIZE[i], MOVABLE[i], COLLIDE[i]
        entity.initial_mass, entity.max_speed = MASS[i], MAX_SPEED[i]
        entity.state.p_pos, entity.state.p_vel = positions[i].copy(), velocities[i].copy()
    for agent, accel in zip(world.agents, ACCEL):
        agent.silent, agent.accel = True, accel
    return world


def our_world(num_envs):
    return ParticleWorld(num_envs, len(ACCEL), SIZE, MOVABLE, COLLIDE, MASS,
                         [np.inf if s is None else s for s in MAX_SPEED], ACCEL)


def test_mixed_world_matches_mpe2_core_world():
    rng = np.random.default_rng(0)
    positions = rng.uniform(-0.5, 0.5, (2, len(SIZE), 2))  # two copies, crowded: many contacts
    velocities = rng.normal(0.0, 0.5, (2, len(SIZE), 2)) * np.array(MOVABLE)[:, None]
    theirs = [mpe2_world(positions[k], velocities[k]) for k in range(2)]
    ours = our_world(2)
    ours.set_state(positions, velocities)
    capped = False
    for step in range(40):
        directions = rng.uniform(-1.0, 1.0, (2, len(ACCEL), 2))
        force = ours.action_force(directions)  # [K, A, 2]
        ours.step(force)
        for k, world in enumerate(theirs):
            for i, agent in enumerate(world.agents):
                agent.action.u = directions[k, i] * ACCEL[i]
            world.step()
            np.testing.assert_allclose(ours.positions[k], [e.state.p_pos for e in world.entities], atol=1e-9)
            np.testing.assert_allclose(ours.velocities[k], [e.state.p_vel for e in world.entities], atol=1e-9)
        capped |= bool(np.isclose(np.linalg.norm(ours.velocities[:, 1], axis=-1), 1.0).any())
    assert capped, "agent 1's max_speed must have been reached"
    np.testing.assert_array_equal(ours.positions[:, ~np.array(MOVABLE)], positions[:, ~np.array(MOVABLE)])


def test_action_force_scales_directions_and_ignores_immovable_agents():
    world = our_world(1)
    force = world.action_force(np.ones((1, 4, 2)))
    np.testing.assert_array_equal(force[0], [[5, 5], [3, 3], [4, 4], [0, 0]])
    assert MPE2_SENSITIVITY == 5.0
    np.testing.assert_array_equal(DISCRETE_DIRECTIONS, [[0, 0], [-1, 0], [1, 0], [0, -1], [0, 1]])


def test_free_agent_integrates_like_mpe2_by_hand():
    world = ParticleWorld(1, 1, [0.15])
    world.set_state(np.zeros((1, 1, 2)), np.array([[[1.0, 0.0]]]))
    world.step(np.array([[[5.0, 0.0]]]))
    # p = 0 + 1 * 0.1; v = 1 * 0.75 + 5 / 1 * 0.1
    np.testing.assert_allclose(world.positions[0, 0], [0.1, 0.0])
    np.testing.assert_allclose(world.velocities[0, 0], [1.25, 0.0])


def test_overlapping_pair_gets_the_softplus_contact_force():
    world = ParticleWorld(1, 2, [0.15, 0.15])
    world.positions[0, 1] = [0.2, 0.0]  # penetration depth 0.1
    world.step(np.zeros((1, 2, 2)))
    force = 100.0 * np.logaddexp(0.0, 0.1 / 1e-3) * 1e-3  # contact_force * softplus, pushing apart
    np.testing.assert_allclose(world.velocities[0], [[-force * 0.1, 0.0], [force * 0.1, 0.0]])


@pytest.mark.parametrize("kwargs, match", [
    (dict(num_envs=0), "num_envs"),
    (dict(num_agents=3), "num_agents"),
    (dict(mass=[1.0, 2.0, 3.0]), "mass"),
    (dict(movable=[True]), "movable"),
])
def test_bad_arguments_are_named(kwargs, match):
    args = dict(num_envs=1, num_agents=1, size=[0.1, 0.1])
    with pytest.raises(ValueError, match=match):
        ParticleWorld(**dict(args, **kwargs))


def test_set_state_checks_shape_and_values():
    world = ParticleWorld(2, 1, [0.1, 0.1])
    with pytest.raises(ValueError, match=r"positions must have shape \(2, 2, 2\)"):
        world.set_state(np.zeros((1, 2, 2)), np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match="velocities must be finite"):
        world.set_state(np.zeros((2, 2, 2)), np.full((2, 2, 2), np.nan))
