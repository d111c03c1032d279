"""What every particle scenario promises: PettingZoo's API at edge sizes, and batch copy k
equal, step for step, to a single environment seeded with seed + k."""

import warnings

import numpy as np
import pytest
from pettingzoo.test import parallel_api_test

from keras_ip.envs.particles import (CooperativeNavigation, CooperativeNavigationBatch, CooperativePush,
                                     CooperativePushBatch, HeterogeneousNavigation, HeterogeneousNavigationBatch,
                                     PreyPredator, PreyPredatorBatch)

SCENARIOS = {  # env class, batch class, sizes for the API test (smallest allowed, a medium one)
    "cooperative_navigation": (CooperativeNavigation, CooperativeNavigationBatch, (3, 15)),
    "cooperative_push": (CooperativePush, CooperativePushBatch, (1, 12)),
    "heterogeneous_navigation": (HeterogeneousNavigation, HeterogeneousNavigationBatch, (2, 7)),
    "prey_predator": (PreyPredator, PreyPredatorBatch, (1, 16)),
}


def random_actions(rng, shape, continuous):
    return rng.uniform(-1, 1, shape + (2,)).astype(np.float32) if continuous else rng.integers(0, 5, shape)


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
@pytest.mark.parametrize("size", [0, 1], ids=["smallest", "medium"])
@pytest.mark.parametrize("continuous", [False, True], ids=["discrete", "continuous"])
def test_parallel_api(scenario, size, continuous):
    env_class, _, sizes = SCENARIOS[scenario]
    env = env_class(n=sizes[size], continuous=continuous)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        parallel_api_test(env, num_cycles=30)  # also sets env.max_cycles = 30
    assert env.max_cycles == 30 and env.agents == []


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
@pytest.mark.parametrize("continuous", [False, True], ids=["discrete", "continuous"])
def test_batch_copy_k_equals_a_single_env_seeded_with_seed_plus_k(scenario, continuous):
    env_class, batch_class, _ = SCENARIOS[scenario]
    batch = batch_class(num_envs=3, n=7, continuous=continuous, seed=10)
    actions = random_actions(np.random.default_rng(0), (5, 3, 7), continuous)
    steps = [(batch.reset(), None)] + [batch.step(step_actions)[:2] for step_actions in actions]
    assert steps[-1][0].shape == (3, 7, batch.obs_dim) and steps[-1][1].shape == (3, 7)
    assert steps[-1][1].dtype == np.float32
    assert not np.array_equal(steps[0][0][0], steps[0][0][1])  # copies are seeded apart
    for k in range(3):
        env = env_class(n=7, continuous=continuous)
        observations, _ = env.reset(seed=10 + k)
        np.testing.assert_array_equal(np.stack(list(observations.values())), steps[0][0][k])
        for (batch_obs, batch_rewards), step_actions in zip(steps[1:], actions):
            observations, rewards, _, _, _ = env.step(dict(zip(env.possible_agents, step_actions[k])))
            np.testing.assert_array_equal(np.stack(list(observations.values())), batch_obs[k])
            np.testing.assert_array_equal(list(rewards.values()), batch_rewards[k])
        np.testing.assert_array_equal(env.agent_positions(), batch.agent_positions()[k])


@pytest.mark.parametrize("scenario, obs_dim, first, last", [
    ("cooperative_navigation", 26, "agent_0", "agent_3"), ("cooperative_push", 28, "agent_0", "agent_3"),
    ("heterogeneous_navigation", 26, "big_0", "small_1"), ("prey_predator", 34, "agent_0", "agent_3")])
def test_metadata_spaces_and_agent_names(scenario, obs_dim, first, last):
    env = SCENARIOS[scenario][0](n=4, continuous=True, max_cycles=7)
    assert (env.n, env.max_cycles) == (4, 7) and env.metadata["name"] == f"{scenario}_v0"
    assert (env.possible_agents[0], env.possible_agents[-1]) == (first, last)
    assert env.action_space(last).shape == (2,) and env.observation_space(first).shape == (obs_dim,)
    assert SCENARIOS[scenario][0](n=4).action_space(last).n == 5
