"""ParticleBatch and ParticleParallelEnv on a minimal scenario in which agent 0 leaves early."""

import warnings

import numpy as np
import pytest
from pettingzoo.test import parallel_api_test

from keras_ip.envs.particles import ParticleBatch, ParticleParallelEnv, ParticleWorld


class Drift(ParticleBatch):
    """Two agents starting in [-1, 1]^2; observation: own position; reward: -|position|; agent 0 ends at step 2."""

    def __init__(self, num_envs=1, max_cycles=5, seed=None):
        super().__init__(ParticleWorld(num_envs, 2, [0.1, 0.1]), obs_dim=2, continuous=False, max_cycles=max_cycles,
                         seed=seed)

    def _initial_positions(self, rng):
        return rng.uniform(-1.0, 1.0, (2, 2))

    def _evaluate(self):
        positions = self.world.positions  # [K, 2, 2]
        return positions.astype(np.float32), -np.linalg.norm(positions, axis=-1).astype(np.float32)

    def _terminated(self):
        return np.broadcast_to([self.cycle >= 2, False], (self.num_envs, 2)).copy()


class DriftEnv(ParticleParallelEnv):
    metadata = {"name": "drift_v0", "render_modes": [], "is_parallelizable": True}

    def __init__(self, max_cycles=5):
        super().__init__(Drift(max_cycles=max_cycles))


def test_parallel_api_with_an_agent_leaving_early():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        parallel_api_test(DriftEnv(), num_cycles=5)


def test_departed_agent_is_left_out_and_stays_still():
    env = DriftEnv()
    env.reset(seed=0)
    env.step({"agent_0": 2, "agent_1": 2})
    observations, rewards, terminations, _, _ = env.step({"agent_0": 2, "agent_1": 2})
    assert terminations == {"agent_0": True, "agent_1": False} and env.agents == ["agent_1"]
    velocity = env.batch.world.velocities[0, 0].copy()
    observations, rewards, terminations, truncations, infos = env.step({"agent_1": 1})
    assert set(observations) == set(rewards) == set(infos) == {"agent_1"}
    np.testing.assert_allclose(env.batch.world.velocities[0, 0], velocity * 0.75)  # no-op: only damping
    assert infos["agent_1"]["team_reward"] == pytest.approx(float(-np.linalg.norm(env.agent_positions(), axis=-1).sum()))


def test_reset_seeds_world_and_spaces():
    first, second = DriftEnv(), DriftEnv()
    observations = [env.reset(seed=3)[0]["agent_1"] for env in (first, second)]
    np.testing.assert_array_equal(*observations)
    assert first.action_space("agent_0").sample() == second.action_space("agent_0").sample()
    np.testing.assert_array_equal(Drift(seed=3).reset()[0, 1], observations[0])  # the batch seeded alike


def test_max_cycles_is_settable_and_checked():
    env = DriftEnv(max_cycles=5)
    env.max_cycles = 1
    env.reset(seed=0)
    assert all(env.step({"agent_0": 0, "agent_1": 0})[3].values()) and env.agents == []
    with pytest.raises(ValueError, match="max_cycles=0"):
        env.max_cycles = 0


def test_multi_copy_batch_is_rejected():
    with pytest.raises(ValueError, match="num_envs=2"):
        ParticleParallelEnv(Drift(num_envs=2))
