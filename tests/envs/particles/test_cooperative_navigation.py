"""Cooperative navigation: PettingZoo API, seeds, hand-worked observations and rewards, batching, errors."""


import numpy as np
import pytest
from pettingzoo.test import parallel_seed_test

from keras_ip.envs.particles import (CooperativeNavigation, CooperativeNavigationBatch, cooperative_navigation_rewards, world_radius)

# Three agents and three landmarks; agent 0 moves at (0.1, -0.2).
AGENTS = [[0.0, 0.0], [1.0, 0.0], [0.0, 2.0]]
LANDMARKS = [[0.4, 0.0], [-1.0, 0.0], [0.0, 3.0]]


def set_small_state(batch, agents=AGENTS, landmarks=LANDMARKS):
    """Puts the hand-built state into every copy of `batch`; returns the observations."""
    positions = np.broadcast_to(np.array(agents + landmarks, float), (batch.num_envs, 6, 2))
    velocities = np.zeros_like(positions)
    velocities[:, 0] = [0.1, -0.2]
    return batch.set_state(positions, velocities)


def random_actions(rng, shape, continuous):
    return rng.uniform(-1, 1, shape + (2,)) if continuous else rng.integers(0, 5, shape)


@pytest.mark.parametrize("continuous", [False, True])
def test_parallel_seed(continuous):
    parallel_seed_test(lambda: CooperativeNavigation(n=5, continuous=continuous, max_cycles=6), num_cycles=6)


def rollout(env, seed, actions):
    observations, _ = env.reset(seed=seed)
    sequence = [np.stack(list(observations.values()))]
    for step_actions in actions:
        observations, rewards, _, _, _ = env.step(dict(zip(env.possible_agents, step_actions)))
        sequence.append(np.stack(list(observations.values())))
        sequence.append(np.array(list(rewards.values())))
    return sequence


def test_same_seed_same_episode_and_different_seed_different_episode():
    actions = np.random.default_rng(0).integers(0, 5, (10, 8))
    first = rollout(CooperativeNavigation(n=8), 3, actions)
    np.testing.assert_array_equal(np.concatenate(first, None), np.concatenate(rollout(CooperativeNavigation(n=8), 3,
                                                                                      actions), None))
    assert not np.array_equal(first[0], rollout(CooperativeNavigation(n=8), 4, actions)[0])


def test_observation_layout_by_hand():
    batch = CooperativeNavigationBatch(1, 3)
    batch.reset(seed=0)
    observations = set_small_state(batch)[0]  # [3, 26]
    assert observations.dtype == np.float32 and observations.shape == (3, 26)
    np.testing.assert_allclose(observations[0], [0.1, -0.2, 0, 0,                 # own velocity, position
                                                 0.4, 0, -1, 0, 0, 3, 0, 0, 0, 0,  # landmarks, nearest first
                                                 1, 0, 0, 2] + [0] * 8, atol=1e-7)  # other agents, padded
    np.testing.assert_allclose(observations[2], [0, 0, 0, 2,
                                                 0, 1, 0.4, -2, -1, -2, 0, 0, 0, 0,
                                                 0, -2, 1, -2] + [0] * 8, atol=1e-7)


def test_observation_keeps_only_the_nearest_five_landmarks_and_six_agents():
    batch = CooperativeNavigationBatch(1, 8)
    batch.reset(seed=0)
    line = np.array([[8.0 - i, 0.0] for i in range(8)])  # agent i at x = 8 - i: agent 0 is the farthest
    positions = np.concatenate([line, line + [0.0, 1.0]])[None]  # landmark l right above agent l
    observations = batch.set_state(positions, np.zeros_like(positions))[0]
    np.testing.assert_allclose(observations[7, 4:14], [0, 1, 1, 1, 2, 1, 3, 1, 4, 1])
    np.testing.assert_allclose(observations[7, 14:26], [1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0])


def _rewards_of_the_hand_built_state(reward):
    batch = CooperativeNavigationBatch(1, 3, reward=reward)
    batch.reset(seed=0)
    set_small_state(batch)
    batch.world.velocities[:] = 0.0
    _, rewards, _, _ = batch.step(np.zeros((1, 3), int))  # no-op: nothing moves
    assert batch.coverage[0] == pytest.approx(-(0.4 + 1.0 + 1.0))  # mpe2's objective, whatever the reward
    return rewards[0]


def test_local_rewards_of_the_hand_built_state():
    # each agent's distance to its own nearest landmark: 0.4, |(1,0)-(0.4,0)| = 0.6, |(0,2)-(0,3)| = 1
    np.testing.assert_allclose(_rewards_of_the_hand_built_state("local"), [-0.4, -0.6, -1.0], atol=1e-6)


def test_difference_rewards_of_the_hand_built_state():
    # landmark 0 (0.4,0): nearest agent 0 (0.4), second agent 1 (0.6): gap 0.2 to agent 0;
    # landmark 1 (-1,0): agent 0 (1), then agent 1 (2): gap 1 to agent 0;
    # landmark 2 (0,3): agent 2 (1), then agent 0 (3): gap 2 to agent 2.
    np.testing.assert_allclose(_rewards_of_the_hand_built_state("difference"), [1.2, 0.0, 2.0], atol=1e-6)


def test_coverage_rewards_of_the_hand_built_state():
    # landmark 0 (0.4 from agent 0) and landmark 1 (1 from agent 0) are charged to agent 0; landmark 2 to agent 2.
    np.testing.assert_allclose(_rewards_of_the_hand_built_state("coverage"), [-1.4, 0.0, -1.0], atol=1e-6)


def test_coverage_is_reported_in_infos_and_unknown_rewards_are_rejected():
    env = CooperativeNavigation(n=4)
    env.reset(seed=0)
    _, _, _, _, infos = env.step({agent: 0 for agent in env.agents})
    assert infos["agent_0"]["coverage"] == pytest.approx(float(env.batch.coverage[0]))
    assert infos["agent_0"]["coverage"] < 0
    with pytest.raises(ValueError, match="reward='shared'"):
        CooperativeNavigation(reward="shared")


def test_collisions_cost_one_per_colliding_neighbour():
    agents = np.array([[0.0, 0.0], [0.2, 0.0], [0.25, 0.2]])  # pairs (0, 1) and (1, 2) closer than 0.3
    agent_distances = np.linalg.norm(agents[:, None] - agents[None], axis=-1)[None]  # [1, 3, 3]
    landmark_distances = np.array([[[5.0, 1.0], [2.0, 4.0], [3.0, 6.0]]])  # [1, 3 agents, 2 landmarks]
    rewards = cooperative_navigation_rewards(landmark_distances, agent_distances, 0.3, "coverage")
    np.testing.assert_allclose(rewards, [[-1.0 - 1.0, -2.0 - 2.0, -1.0]])
    local = cooperative_navigation_rewards(landmark_distances, agent_distances, 0.3, "local")
    np.testing.assert_allclose(local, [[-1.0 - 1.0, -2.0 - 2.0, -3.0 - 1.0]])  # own nearest landmark
    assert rewards.sum() == pytest.approx(-(2.0 + 1.0) - 2 * 2)  # team: distances, and 2 per colliding pair


def test_rewards_charge_each_copy_separately():
    landmark_distances = np.array([[[1.0], [2.0]], [[3.0], [0.5]]])  # [2 copies, 2 agents, 1 landmark]
    far = np.full((2, 2, 2), 10.0)
    np.testing.assert_allclose(cooperative_navigation_rewards(landmark_distances, far, 0.3, "coverage"),
                               [[-1, 0], [0, -0.5]])


def test_team_reward_info_is_the_sum_of_rewards():
    env = CooperativeNavigation(n=6)
    env.reset(seed=1)
    _, rewards, _, _, infos = env.step({agent: 1 for agent in env.agents})
    assert infos["agent_3"]["team_reward"] == pytest.approx(sum(rewards.values()), abs=1e-5)


@pytest.mark.parametrize("n, radius", [(1, 1.0), (3, 1.0), (15, 2.2), (30, 3.0), (65, 4.0), (100, 5.0),
                                       (200, 7.0), (800, 14.0)])
def test_world_radius_anchors(n, radius):
    assert world_radius(n) == pytest.approx(radius)


def test_initial_positions_fill_the_world_square():
    batch = CooperativeNavigationBatch(1, 200, seed=0)
    batch.reset()
    extent = np.abs(batch.world.positions).max()
    assert 6.5 < extent <= 7.0 and batch.radius == 7.0


def test_batch_shapes_and_episode_clock():
    batch = CooperativeNavigationBatch(num_envs=4, n=10, max_cycles=3, seed=0)
    assert (batch.num_envs, batch.num_agents, batch.obs_dim) == (4, 10, 26)
    observations = batch.reset()
    assert observations.shape == (4, 10, 26) and observations.dtype == np.float32
    assert batch.agent_positions().shape == (4, 10, 2)
    for step in range(3):
        observations, rewards, terminated, truncated = batch.step(np.zeros((4, 10), int))
        assert (rewards.shape, rewards.dtype, terminated.dtype, truncated.shape) == ((4, 10), np.float32, bool,
                                                                                     (4, 10))
        assert not terminated.any() and truncated.all() == (step == 2)
    with pytest.raises(RuntimeError, match="reset"):
        batch.step(np.zeros((4, 10), int))


@pytest.mark.parametrize("continuous", [False, True])
def test_long_random_rollouts_at_n200_stay_finite(continuous):
    batch = CooperativeNavigationBatch(num_envs=2, n=200, continuous=continuous, max_cycles=100, seed=0)
    rng = np.random.default_rng(1)
    for _ in range(2):
        batch.reset()
        for _ in range(100):
            observations, rewards, _, _ = batch.step(random_actions(rng, (2, 200), continuous))
            assert np.isfinite(observations).all() and np.isfinite(rewards).all()
    assert (rewards <= 0).all() and (rewards.sum(axis=1) < 0).all()


@pytest.mark.parametrize("continuous, actions, match", [
    (False, np.zeros((2, 4), int), r"shape \(2, 3\)"),
    (False, np.zeros((2, 3)), "integers"),
    (False, np.array([[0, 1, 2], [3, 5, 0]]), r"0..4.*actions\[copy 1, agent 1\]=5"),
    (False, np.array([[0, -1, 2], [3, 4, 0]]), r"actions\[copy 0, agent 1\]=-1"),
    (True, np.zeros((2, 3)), r"shape \(2, 3, 2\)"),
    (True, np.full((2, 3, 2), np.nan), r"finite.*actions\[copy 0, agent 0\]=\[nan, nan\]"),
    (True, np.full((2, 3, 2), 1.5), r"\[-1, 1\]"),
    (True, np.full((2, 3, 2), "a"), "real numbers"),
])
def test_bad_batch_actions_raise_clear_errors(continuous, actions, match):
    batch = CooperativeNavigationBatch(num_envs=2, n=3, continuous=continuous, seed=0)
    batch.reset()
    with pytest.raises(ValueError, match=match):
        batch.step(actions)


def test_bad_env_actions_raise_clear_errors():
    env = CooperativeNavigation(n=3)
    with pytest.raises(RuntimeError, match="reset"):
        env.step({agent: 0 for agent in env.possible_agents})
    env.reset(seed=0)
    with pytest.raises(ValueError, match="Missing actions for: \\['agent_2'\\]"):
        env.step({"agent_0": 0, "agent_1": 0})
    with pytest.raises(ValueError, match="Unknown agent 'agent_9'"):
        env.step({"agent_0": 0, "agent_1": 0, "agent_2": 0, "agent_9": 0})
    with pytest.raises(ValueError, match=r"shape \(\)"):
        env.step({agent: np.array([1]) for agent in env.agents})
    with pytest.raises(ValueError, match="0..4"):
        env.step({"agent_0": 0, "agent_1": 7, "agent_2": 0})
    continuous = CooperativeNavigation(n=3, continuous=True)
    continuous.reset(seed=0)
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        continuous.step({"agent_0": np.zeros(2), "agent_1": np.zeros(3), "agent_2": np.zeros(2)})
    with pytest.raises(ValueError, match="finite"):
        continuous.step({"agent_0": np.zeros(2), "agent_1": np.array([0.0, np.nan]), "agent_2": np.zeros(2)})


@pytest.mark.parametrize("kwargs, match", [
    (dict(n=0), "n=0"),
    (dict(n=2.5), "n=2.5"),
    (dict(max_cycles=0), "max_cycles=0"),
    (dict(render_mode="human"), "render_mode='human'"),
])
def test_bad_constructor_arguments_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        CooperativeNavigation(**kwargs)


def test_bad_batch_arguments_are_named():
    with pytest.raises(ValueError, match="num_envs=0"):
        CooperativeNavigationBatch(num_envs=0, n=3)
    with pytest.raises(ValueError, match="seed=-1"):
        CooperativeNavigationBatch(num_envs=1, n=3, seed=-1)
