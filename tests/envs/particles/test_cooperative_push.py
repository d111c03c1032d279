"""Cooperative push: PettingZoo API, seeds, hand-worked observations and rewards, the ball's physics, batching."""


import numpy as np
import pytest

from keras_ip.envs.particles.cooperative_push import (CooperativePush, CooperativePushBatch, cooperative_push_rewards)

# Three agents, the ball at (2, 0) (nearest: agent 1, 1 away) and the goal 3 above it.
AGENTS = [[0.0, 0.0], [1.0, 0.0], [0.0, 2.0]]
BALL, GOAL = [2.0, 0.0], [2.0, 3.0]


def small_state(batch):
    """Puts the hand-built state into `batch` (one copy, n=3), agent 0 and the ball moving; returns observations."""
    positions = np.array([AGENTS + [BALL, GOAL]], float)
    velocities = np.zeros_like(positions)
    velocities[0, 0], velocities[0, 3] = [0.1, -0.2], [0.3, -0.4]
    return batch.set_state(positions, velocities)[0]


def test_observation_layout_by_hand():
    batch = CooperativePushBatch(1, 3, seed=0)
    batch.reset()
    observations = small_state(batch)
    assert observations.dtype == np.float32 and observations.shape == (3, 28)
    np.testing.assert_allclose(observations[0], [0.1, -0.2, 0, 0,    # own velocity, position
                                                 2, 0, 0.3, -0.4,    # ball: relative position, velocity
                                                 2, 3,               # goal
                                                 1, 0, 0, 2] + [0] * 14, atol=1e-7)  # other agents, padded
    np.testing.assert_allclose(observations[2], [0, 0, 0, 2, 2, -2, 0.3, -0.4, 2, 1, 0, -2, 1, -2] + [0] * 14,
                               atol=1e-7)


def test_observation_keeps_only_the_nearest_nine_agents():
    batch = CooperativePushBatch(1, 12, seed=0)
    batch.reset()
    line = [[12.0 - i, 0.0] for i in range(12)]  # agent i at x = 12 - i
    positions = np.array([line + [[0.0, 5.0], [0.0, -5.0]]])
    observations = batch.set_state(positions, np.zeros_like(positions))[0]
    np.testing.assert_allclose(observations[11, 10:28], np.stack([np.arange(1, 10), np.zeros(9)], 1).ravel())


def test_rewards_of_the_hand_built_state():
    batch = CooperativePushBatch(1, 3, seed=0)
    batch.reset()
    small_state(batch)
    batch.world.velocities[:] = 0.0
    _, rewards, _, _ = batch.step(np.zeros((1, 3), int))  # nothing moves
    # -3 / 3 each; agent 1, nearest to the ball (1 away), also pays 0.1 * 1.
    np.testing.assert_allclose(rewards[0], [-1.0, -1.1, -1.0], atol=1e-6)


def test_rewards_split_per_copy_and_ties_charge_the_lowest_index():
    rewards = cooperative_push_rewards(np.array([4.0, 2.0]), np.array([[2.0, 1.0], [3.0, 3.0]]))
    np.testing.assert_allclose(rewards, [[-2.0, -2.0 - 0.1], [-1.0 - 0.3, -1.0]])
    np.testing.assert_allclose(rewards.sum(axis=1), [-4.0 - 0.1, -2.0 - 0.3])  # team: -distance - 0.1 * nearest


@pytest.mark.parametrize("push, moved", [(2, (0.3, 0.5)), (0, (-1e-5, 1e-5))])
def test_agents_push_the_heavy_ball_and_the_goal_stays(push, moved):
    batch = CooperativePushBatch(1, 2, seed=0)
    batch.reset()
    positions = np.array([[[-0.41, 0.0], [0.0, 3.0], [0.0, 0.0], [0.0, 3.0]]])  # 0 by the ball, 1 on the goal
    batch.set_state(positions, np.zeros_like(positions))
    for _ in range(20):
        batch.step(np.array([[push, 2]]))  # agent 0 pushes right (or rests), agent 1 runs right
    ball = batch.world.positions[0, 2]
    assert moved[0] < ball[0] < moved[1] and ball[1] == 0.0
    assert batch.world.velocities[0, 2, 0] < 0.5 * batch.world.velocities[0, 1, 0]  # heavy: slower than a free agent
    np.testing.assert_array_equal(batch.world.positions[0, 3], [0.0, 3.0])


@pytest.mark.parametrize("continuous", [False, True])
def test_random_rollout_at_n200_stays_finite(continuous):
    batch = CooperativePushBatch(num_envs=1, n=200, continuous=continuous, seed=0)
    rng = np.random.default_rng(1)
    batch.reset()
    inner = batch.radius - 0.3
    assert np.abs(batch.world.positions[0, 200:]).max() <= inner and np.abs(batch.world.positions).max() > inner
    for _ in range(25):
        actions = rng.uniform(-1, 1, (1, 200, 2)) if continuous else rng.integers(0, 5, (1, 200))
        observations, rewards, _, truncated = batch.step(actions)
        assert np.isfinite(observations).all() and np.isfinite(rewards).all()
    assert truncated.all() and (rewards < 0).all()


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="n=0"):
        CooperativePush(n=0)
    with pytest.raises(ValueError, match="max_cycles=0"):
        CooperativePush(max_cycles=0)
    with pytest.raises(ValueError, match="seed=-1"):
        CooperativePushBatch(num_envs=1, n=3, seed=-1)
