"""Soft actor-critic for intention propagation: pure losses, policy sampling, the learner."""

from keras_ip.sac import losses
from keras_ip.sac.learner import SACLearner, default_target_entropy

__all__ = ["SACLearner", "default_target_entropy", "losses"]
