"""CooperativeNavigationBatch against mpe2's simple_spread, step for step: physics, observations, rewards."""

import numpy as np
import pytest

simple_spread_v3 = pytest.importorskip("mpe2.simple_spread_v3")

from keras_ip.envs.particles import CooperativeNavigationBatch, mpe2_continuous_to_direction  # noqa: E402

STEPS = 25


def mpe2_env(n, continuous):
    """simple_spread with partial observability set so that its first 26 values are our observation."""
    return simple_spread_v3.parallel_env(N=n, max_cycles=STEPS, continuous_actions=continuous,
                                         num_landmark_neighbors=5, num_agent_neighbors=6)


def mpe2_state(world):
    """Positions and velocities of mpe2's entities (agents, then landmarks), float64 [1, M, 2] each."""
    return (np.array([e.state.p_pos for e in world.entities])[None],
            np.array([e.state.p_vel for e in world.entities])[None])


def reference_rewards(world, scenario):
    """Our per-agent rewards worked out with loops on mpe2's world, and each agent's collision count."""
    agents = world.agents
    charged = np.zeros(len(agents))
    for landmark in world.landmarks:
        distances = [np.linalg.norm(agent.state.p_pos - landmark.state.p_pos) for agent in agents]
        charged[int(np.argmin(distances))] += min(distances)
    collisions = np.array([-scenario.reward(agent, world) for agent in agents])
    return -charged - collisions, collisions


def crowd_agents(world, rng):
    """Moves mpe2's agents into a small box so that they collide."""
    for agent in world.agents:
        agent.state.p_pos = rng.uniform(-0.4, 0.4, 2)


@pytest.mark.parametrize("continuous", [False, True])
@pytest.mark.parametrize("n", [3, 15])
def test_matches_mpe2_simple_spread_step_for_step(n, continuous):
    rng = np.random.default_rng(n)
    theirs = mpe2_env(n, continuous)
    theirs.reset(seed=n)
    world, scenario = theirs.unwrapped.world, theirs.unwrapped.scenario
    crowd_agents(world, rng)
    ours = CooperativeNavigationBatch(1, n, continuous=continuous, max_cycles=STEPS, reward="coverage")
    ours.reset(seed=0)
    ours.set_state(*mpe2_state(world))
    total_collisions = 0
    for step in range(STEPS):
        if continuous:
            mpe2_actions = rng.uniform(0.0, 1.0, (n, 5)).astype(np.float32)
            our_actions = mpe2_continuous_to_direction(mpe2_actions)[None]  # [1, N, 2]
        else:
            mpe2_actions = rng.integers(0, 5, n)
            our_actions = mpe2_actions[None]  # [1, N]
        their_obs, _, _, their_truncations, _ = theirs.step(dict(zip(theirs.possible_agents, mpe2_actions)))
        obs, rewards, terminated, truncated = ours.step(our_actions)

        positions, velocities = mpe2_state(world)
        np.testing.assert_allclose(ours.world.positions, positions, rtol=0, atol=1e-9, err_msg=f"step {step}")
        np.testing.assert_allclose(ours.world.velocities, velocities, rtol=0, atol=1e-9, err_msg=f"step {step}")
        np.testing.assert_allclose(obs[0], [their_obs[a][:26] for a in theirs.possible_agents], rtol=0, atol=1e-6)
        expected, collisions = reference_rewards(world, scenario)
        np.testing.assert_allclose(rewards[0], expected, rtol=1e-6, atol=1e-5)
        assert rewards.sum() == pytest.approx(scenario.global_reward(world) - collisions.sum(), rel=1e-5)
        assert not terminated.any() and truncated.all() == all(their_truncations.values())
        total_collisions += collisions.sum()
    assert total_collisions > 0, "the run must exercise contact forces"


def test_first_reset_matches_mpe2_at_n3():
    theirs = simple_spread_v3.parallel_env(N=3)
    theirs.reset(seed=5)
    ours = CooperativeNavigationBatch(1, 3)
    ours.reset(seed=5)
    np.testing.assert_array_equal(ours.world.positions, mpe2_state(theirs.unwrapped.world)[0])


def test_continuous_mapping_is_mpe2s_force_direction():
    actions = np.array([[0.5, 0.2, 0.9, 1.0, 0.25], [0.0, 1.5, -0.5, 0.0, 0.0]], np.float32)  # [2, 5]
    np.testing.assert_allclose(mpe2_continuous_to_direction(actions), [[0.7, -0.75], [-1.0, 0.0]], atol=1e-7)
    assert mpe2_continuous_to_direction(actions).dtype == np.float32
    with pytest.raises(ValueError, match="size 5"):
        mpe2_continuous_to_direction(np.zeros((2, 4)))


@pytest.mark.parametrize("landmarks, agents", [(1, 1), (2, 3), (1, 4)])
def test_narrower_views_match_mpe2_partial_observability(landmarks, agents):
    n = 8
    theirs = simple_spread_v3.parallel_env(N=n, num_landmark_neighbors=landmarks, num_agent_neighbors=agents)
    theirs.reset(seed=3)
    ours = CooperativeNavigationBatch(1, n, num_landmark_neighbors=landmarks, num_agent_neighbors=agents)
    ours.reset(seed=0)
    ours.set_state(*mpe2_state(theirs.unwrapped.world))
    size = 4 + 2 * landmarks + 2 * agents
    assert ours.obs_dim == size
    actions = np.random.default_rng(landmarks).integers(0, 5, n)
    their_obs = theirs.step(dict(zip(theirs.possible_agents, actions)))[0]
    np.testing.assert_allclose(ours.step(actions[None])[0][0], [their_obs[a][:size] for a in theirs.possible_agents],
                               rtol=0, atol=1e-6)


def test_view_sizes_are_checked():
    with pytest.raises(ValueError, match="num_agent_neighbors.*Received: num_agent_neighbors=0"):
        CooperativeNavigationBatch(1, 4, num_agent_neighbors=0)
