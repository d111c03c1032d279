"""Prey and predator: PettingZoo API, seeds, the scripted prey, hand-worked observations and rewards, batching."""


import numpy as np
import pytest

from keras_ip.envs.particles.prey_predator import (PreyPredator, PreyPredatorBatch, num_landmarks,
                                                   num_prey, prey_directions, prey_predator_rewards)

# n=3: three predators, one prey, two landmarks. Predator 0 touches the prey (0.1 < 0.075 + 0.05).
PREDATORS = [[0.0, 0.0], [0.5, 0.0], [-0.5, 0.5]]
PREY = [[0.1, 0.0]]
LANDMARKS = [[0.0, 0.6], [0.5, -0.6]]


def small_state(batch, velocities_of=None):
    """Puts the hand-built state into `batch` (one copy, n=3); `velocities_of` maps entity -> velocity."""
    positions = np.array([PREDATORS + PREY + LANDMARKS], float)
    velocities = np.zeros_like(positions)
    for entity, velocity in (velocities_of or {}).items():
        velocities[0, entity] = velocity
    return batch.set_state(positions, velocities)[0]


@pytest.mark.parametrize("n, prey, landmarks", [(1, 1, 2), (3, 1, 2), (15, 5, 3), (200, 66, 40)])
def test_entity_counts(n, prey, landmarks):
    assert (num_prey(n), num_landmarks(n)) == (prey, landmarks)
    batch = PreyPredatorBatch(1, n)
    assert (batch.num_agents, batch.num_prey, batch.num_landmarks) == (n, prey, landmarks)
    assert batch.world.num_entities == n + prey + landmarks and batch.world.num_agents == n + prey
    assert len(PreyPredator(n=n).possible_agents) == n


def test_prey_flee_the_nearest_predator_and_steer_back_inside():
    prey = np.array([[[0.1, 0.0], [0.95, -0.2], [-0.95, 0.95], [3.0, 4.0]],
                     [[0.0, 0.0], [0.3, 0.4], [0.0, 0.0], [0.0, 0.0]]])  # [2 copies, 4 prey, 2]
    predators = np.array([[[0.0, 0.0], [0.5, -0.2]], [[0.0, 0.0], [5.0, 5.0]]])  # [2 copies, 2 predators, 2]
    directions = prey_directions(prey, predators, radius=1.0)
    np.testing.assert_allclose(directions, [[[1, 0], [-1, 0], [1, -1], [-1, -1]],  # away; x beyond 0.9 back; ...
                                            [[0, 0], [0.6, 0.8], [0, 0], [0, 0]]])  # on top of a predator: rest
    assert np.abs(prey_directions(prey, predators, radius=10.0)[0, 1]).tolist() == [1, 0]  # inside a larger world


def test_scripted_prey_run_away_from_resting_predators():
    batch = PreyPredatorBatch(1, 3, seed=0)
    batch.reset()
    positions = np.array([[[0.0, 0.0], [-0.5, 0.5], [-0.5, -0.5], [0.1, 0.0], [0.0, 0.9], [0.0, -0.9]]])
    batch.set_state(positions, np.zeros_like(positions))
    for _ in range(5):
        batch.step(np.zeros((1, 3), int))
    prey = batch.world.positions[0, 3]
    assert prey[0] > 0.4 and batch.world.velocities[0, 3, 0] > 0.8 and abs(prey[1]) < 1e-9  # fled right
    assert np.abs(batch.world.velocities[0, :3]).max() < 0.5  # predators only shoved by the first contact


def test_observation_layout_by_hand():
    batch = PreyPredatorBatch(1, 3, seed=0)
    batch.reset()
    observations = small_state(batch, {1: [0.1, -0.2], 3: [0.2, 0.1]})
    assert observations.dtype == np.float32 and observations.shape == (3, 34)
    np.testing.assert_allclose(observations[1], [0.1, -0.2, 0.5, 0,                    # own velocity, position
                                                 0, -0.6, -0.5, 0.6] + [0] * 6 +      # landmarks, nearest first
                                                [-0.4, 0] + [0] * 8 +                 # prey relative positions
                                                [0.2, 0.1] + [0] * 8, atol=1e-7)      # prey velocities
    np.testing.assert_allclose(observations[2, 4:8], [0.5, 0.1, 1.0, -1.1], atol=1e-7)
    np.testing.assert_allclose(observations[2, 14:16], [0.6, -0.5], atol=1e-7)


def test_observation_keeps_the_five_nearest_prey_with_their_velocities():
    batch = PreyPredatorBatch(1, 18, seed=0)  # 6 prey, 3 landmarks
    batch.reset()
    positions = np.zeros((1, 27, 2))
    positions[0, :18, 1] = -5.0 - np.arange(18)  # predators far below
    positions[0, :18, 0] = 10.0
    positions[0, 18:24, 0] = 6.0 - np.arange(6)  # prey j at x = 6 - j: prey 5 is the nearest to predator 0
    positions[0, 24:, 1] = 5.0 + np.arange(3)
    positions[0, 0] = [0.0, 0.0]
    velocities = np.zeros_like(positions)
    velocities[0, 18:24, 0] = np.arange(6)  # prey j moves at (j, 0)
    observations = batch.set_state(positions, velocities)[0]
    np.testing.assert_allclose(observations[0, 14:24], [1, 0, 2, 0, 3, 0, 4, 0, 5, 0])
    np.testing.assert_allclose(observations[0, 24:34], [5, 0, 4, 0, 3, 0, 2, 0, 1, 0])


def test_rewards_of_the_hand_built_state():
    batch = PreyPredatorBatch(1, 3, seed=0)
    batch.reset()
    small_state(batch)
    _, rewards, _, _ = batch.step(np.zeros((1, 3), int))  # from rest, positions change only from the next step
    np.testing.assert_array_equal(batch.world.positions[0, :4], PREDATORS + PREY)
    # predator 0 touches the prey (+10) 0.1 away; the others pay 0.1 * their distance to it.
    np.testing.assert_allclose(rewards[0], [10 - 0.01, -0.04, -0.1 * np.hypot(0.6, 0.5)], atol=1e-6)


def test_every_predator_touching_a_prey_gets_ten_per_prey():
    distances = np.array([[[0.1, 0.12, 3.0], [0.124, 0.2, 0.5], [0.126, 0.3, 2.0]]])  # [1, 3 predators, 3 prey]
    rewards = prey_predator_rewards(distances)
    np.testing.assert_allclose(rewards, [[20 - 0.01, 10 - 0.0124, -0.0126]], rtol=1e-6)


@pytest.mark.parametrize("continuous", [False, True])
def test_random_rollout_at_n200_stays_finite(continuous):
    batch = PreyPredatorBatch(num_envs=1, n=200, continuous=continuous, seed=0)
    rng = np.random.default_rng(1)
    batch.reset()
    assert np.abs(batch.world.positions[0, 266:]).max() <= 0.9 * batch.radius
    for _ in range(25):
        actions = rng.uniform(-1, 1, (1, 200, 2)) if continuous else rng.integers(0, 5, (1, 200))
        observations, rewards, _, truncated = batch.step(actions)
        assert np.isfinite(observations).all() and np.isfinite(rewards).all()
    assert truncated.all() and np.abs(batch.world.positions[0, 200:266]).max() < 1.1 * batch.radius


def test_bad_arguments_and_actions_are_named():
    with pytest.raises(ValueError, match="n=0"):
        PreyPredator(n=0)
    with pytest.raises(ValueError, match="render_mode='human'"):
        PreyPredator(render_mode="human")
    batch = PreyPredatorBatch(num_envs=2, n=3, seed=0)
    batch.reset()
    with pytest.raises(ValueError, match=r"shape \(2, 3\)"):
        batch.step(np.zeros((2, 4), int))  # one action per predator, none for the prey
