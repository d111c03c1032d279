"""Heterogeneous navigation: PettingZoo API, two named groups, seeds, hand-worked observations and rewards, batching."""


import numpy as np
import pytest

from keras_ip.envs.adapter import ParallelEnvAdapter
from keras_ip.envs.particles.cooperative_navigation import world_radius
from keras_ip.envs.particles.heterogeneous_navigation import (HeterogeneousNavigation, HeterogeneousNavigationBatch,
                                                              heterogeneous_navigation_rewards)

# big_0, big_1 (overlapping: 0.35 < 0.2 + 0.2), small_0 (touching big_0: 0.25 < 0.2 + 0.1), small_1 alone.
AGENTS = [[0.0, 0.0], [0.35, 0.0], [0.0, 0.25], [3.0, 0.0]]
LANDMARKS = [[0.0, -1.0], [3.0, 1.0], [-2.0, 0.0], [3.0, -0.6]]


def small_state(batch, small_0_velocity=(0.0, 0.0)):
    """Puts the hand-built state into `batch` (one copy, n=4); returns the observations [4, 26]."""
    positions = np.array([AGENTS + LANDMARKS], float)
    velocities = np.zeros_like(positions)
    velocities[0, 2] = small_0_velocity
    return batch.set_state(positions, velocities)[0]


def test_agents_are_named_by_group_and_the_adapter_sees_two_groups():
    env = HeterogeneousNavigation(n=5)
    assert env.possible_agents == ["big_0", "big_1", "small_0", "small_1", "small_2"]
    adapter = ParallelEnvAdapter(env)
    assert adapter.group_names == ["big", "small"] and adapter.group_ids.tolist() == [0, 0, 1, 1, 1]
    assert adapter.group_obs_dims == [26, 26] and adapter.num_actions == 5
    observations = adapter.reset(seed=0)
    _, rewards, _, truncated, infos = adapter.step(np.array([1, 2, 3, 4, 0]))
    assert observations.shape == (5, 26) and rewards.shape == (5,) and not truncated.any()
    np.testing.assert_array_equal(adapter.positions(), env.agent_positions())
    assert infos["small_2"]["team_reward"] == pytest.approx(rewards.sum(), abs=1e-5)


def test_groups_have_their_physics():
    world = HeterogeneousNavigationBatch(1, 5).world
    np.testing.assert_array_equal(world.size, [0.2, 0.2, 0.1, 0.1, 0.1] + [0.05] * 5)
    np.testing.assert_array_equal(world.mass[:5], [2.0, 2.0, 1.0, 1.0, 1.0])
    np.testing.assert_array_equal(world.accel, [3.0, 3.0, 4.0, 4.0, 4.0])
    np.testing.assert_array_equal(world.max_speed[:5], [1.0, 1.0, 1.3, 1.3, 1.3])
    assert world.collide.tolist() == [True] * 5 + [False] * 5 and world.movable.tolist() == [True] * 5 + [False] * 5


def test_big_agents_are_slower_than_small_agents():
    batch = HeterogeneousNavigationBatch(1, 2, max_cycles=40, seed=0)
    batch.reset()
    batch.set_state([[[0.0, 0.0], [0.0, 5.0], [9.0, 9.0], [9.0, -9.0]]], np.zeros((1, 4, 2)))
    for _ in range(40):
        batch.step(np.array([[2, 2]]))  # both push right
    speed = np.abs(batch.world.velocities[0, :2, 0])
    np.testing.assert_allclose(speed, [0.6, 1.3], rtol=1e-3)  # terminal speeds: accel / mass * dt / damping, capped


def test_observation_layout_by_hand():
    batch = HeterogeneousNavigationBatch(1, 4, seed=0)
    batch.reset()
    observations = small_state(batch, small_0_velocity=(0.1, -0.2))
    assert observations.dtype == np.float32 and observations.shape == (4, 26)
    np.testing.assert_allclose(observations[0], [0, 0, 0, 0,                                  # own velocity, position
                                                 0, -1, -2, 0, 3, -0.6, 3, 1, 0, 0,            # landmarks
                                                 0.35, 0, 0, 0, 0, 0,                          # other big agents
                                                 0, 0.25, 3, 0, 0, 0], atol=1e-7)              # small agents
    np.testing.assert_allclose(observations[2], [0.1, -0.2, 0, 0.25,
                                                 0, -1.25, -2, -0.25, 3, 0.75, 3, -0.85, 0, 0,
                                                 0, -0.25, 0.35, -0.25, 0, 0,
                                                 3, -0.25, 0, 0, 0, 0], atol=1e-7)


def _rewards_of_the_hand_built_state(reward):
    batch = HeterogeneousNavigationBatch(1, 4, seed=0, reward=reward)
    batch.reset()
    small_state(batch)
    _, rewards, _, _ = batch.step(np.zeros((1, 4), int))  # from rest, positions change only from the next step
    np.testing.assert_array_equal(batch.world.positions[0, :4], AGENTS)
    return rewards


def test_local_rewards_of_the_hand_built_state():
    # own nearest landmark: big_0 1, big_1 |(0.35,0)-(0,-1)| = 1.0595, small_0 1.25, small_1 0.6;
    # big_0 and big_1 collide (-1 each); small_0 touches big_0 (-10).
    np.testing.assert_allclose(_rewards_of_the_hand_built_state("local")[0],
                               [-1.0 - 1.0, -1.0594810 - 1.0, -1.25 - 10.0, -0.6], atol=1e-6)


def test_coverage_rewards_of_the_hand_built_state():
    rewards = _rewards_of_the_hand_built_state("coverage")
    # big_0: landmarks 0 and 2 (1 + 2) and big_1; big_1: big_0; small_0: -10 for big_0; small_1: landmarks 1 and 3.
    np.testing.assert_allclose(rewards[0], [-3.0 - 1.0, -1.0, -10.0, -1.0 - 0.6], atol=1e-6)
    assert rewards.sum() == pytest.approx(-(1 + 2 + 1 + 0.6) - 2 * 1 - 10 * 1)


def test_cross_collisions_charge_only_the_small_agent_per_big_agent_touched():
    big = [[0.0, 0.0], [0.5, 0.0]]  # 0.5 apart: no big-big collision
    small = [[0.25, 0.0], [0.25, 0.15]]  # each touches both big agents; 0.15 apart: the small ones collide too
    agents = np.array(big + small)
    distances = np.linalg.norm(agents[:, None] - agents[None], axis=-1)[None]  # [1, 4, 4]
    rewards = heterogeneous_navigation_rewards(np.zeros((1, 4, 1)), distances, num_big=2)
    np.testing.assert_allclose(rewards, [[0.0, 0.0, -20.0 - 1.0, -20.0 - 1.0]])


@pytest.mark.parametrize("continuous", [False, True])
def test_random_rollout_at_n200_stays_finite(continuous):
    batch = HeterogeneousNavigationBatch(num_envs=1, n=200, continuous=continuous, seed=0)
    rng = np.random.default_rng(1)
    observations = batch.reset()
    assert batch.radius == world_radius(200) and np.abs(observations[..., 2:4]).max() <= batch.radius
    for _ in range(25):
        actions = rng.uniform(-1, 1, (1, 200, 2)) if continuous else rng.integers(0, 5, (1, 200))
        observations, rewards, _, truncated = batch.step(actions)
        assert np.isfinite(observations).all() and np.isfinite(rewards).all()
    assert truncated.all() and (rewards <= 0).all()


def test_bad_arguments_and_agents_are_named():
    with pytest.raises(ValueError, match="n=1"):
        HeterogeneousNavigation(n=1)
    with pytest.raises(ValueError, match="num_envs=0"):
        HeterogeneousNavigationBatch(num_envs=0, n=4)
    env = HeterogeneousNavigation(n=4)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="Unknown agent 'agent_0'; this environment has agents big_0 .. small_1"):
        env.step({"agent_0": 0, **{agent: 0 for agent in env.agents}})
    with pytest.raises(ValueError, match=r"Missing actions for: \['small_1'\]"):
        env.step({"big_0": 0, "big_1": 0, "small_0": 0})


def test_unknown_reward_is_rejected_by_name():
    with pytest.raises(ValueError, match="reward='shared'"):
        HeterogeneousNavigationBatch(1, 4, reward="shared")
