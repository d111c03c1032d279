"""Particle scenarios (the paper's MPE tasks) batched over agents and environment copies with numpy.

- `world.ParticleWorld`: K copies of an mpe2 particle world, equal to mpe2's `World.step`.
- `batch.ParticleBatch`: the base of batched scenarios (seeds, episode clock, action checks).
- `base.ParticleParallelEnv`: any one-copy batch as a PettingZoo `ParallelEnv`.
- `neighbours`: offsets, distances and k-nearest selection for observations.
- Scenarios (appendix D.2): `cooperative_navigation`, `heterogeneous_navigation`,
  `cooperative_push`, `prey_predator`; each has a `<Name>Batch` array API and a `<Name>` env.
"""

from keras_ip.envs.particles.base import ParticleParallelEnv
from keras_ip.envs.particles.batch import ParticleBatch
from keras_ip.envs.particles.cooperative_navigation import (CooperativeNavigation, CooperativeNavigationBatch,
                                                             cooperative_navigation_rewards, world_radius)
from keras_ip.envs.particles.cooperative_push import CooperativePush, CooperativePushBatch
from keras_ip.envs.particles.heterogeneous_navigation import HeterogeneousNavigation, HeterogeneousNavigationBatch
from keras_ip.envs.particles.prey_predator import PreyPredator, PreyPredatorBatch
from keras_ip.envs.particles.world import (DISCRETE_DIRECTIONS, MPE2_SENSITIVITY, ParticleWorld,
                                           mpe2_continuous_to_direction)

__all__ = ["DISCRETE_DIRECTIONS", "MPE2_SENSITIVITY", "CooperativeNavigation", "CooperativeNavigationBatch",
           "CooperativePush", "CooperativePushBatch", "HeterogeneousNavigation", "HeterogeneousNavigationBatch",
           "ParticleBatch", "ParticleParallelEnv", "ParticleWorld", "PreyPredator", "PreyPredatorBatch",
           "cooperative_navigation_rewards", "mpe2_continuous_to_direction",
           "world_radius"]
