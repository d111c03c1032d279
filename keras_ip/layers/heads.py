"""Policy heads q_i(a_i | s) and the pure sampling maths behind them.

Discrete actions: a softmax over logits (paper section 4.1). Continuous actions: a
Gaussian squashed by tanh into [-1, 1], sampled with the reparameterisation trick; the
caller rescales [-1, 1] to the environment's [low, high]. Noise is always an explicit
argument so every function here is deterministic and testable.
"""

from __future__ import annotations

import math

import tensorflow as tf

from keras_ip._checks import check_int
from keras_ip.layers.dense import fresh_initializer

LOG_STD_MIN, LOG_STD_MAX = -5.0, 2.0


@tf.keras.utils.register_keras_serializable(package="keras_ip")
class CategoricalHead(tf.keras.layers.Layer):
    """Logits of a categorical policy per agent.

    Init args:
      num_actions: number of discrete actions A.
    Call args:
      embedding: float32 [nodes, units].
    Call returns:
      logits, float32 [nodes, A].
    """

    def __init__(self, num_actions: int, kernel_initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.num_actions = check_int("num_actions", num_actions, minimum=2)
        self.kernel_initializer = tf.keras.initializers.get(kernel_initializer)
        self.logits = tf.keras.layers.Dense(num_actions, kernel_initializer=fresh_initializer(self.kernel_initializer), name="logits")

    def call(self, embedding):
        return self.logits(embedding)

    def get_config(self):
        return dict(super().get_config(), num_actions=self.num_actions,
                    kernel_initializer=tf.keras.initializers.serialize(self.kernel_initializer))


@tf.keras.utils.register_keras_serializable(package="keras_ip")
class TanhGaussianHead(tf.keras.layers.Layer):
    """Mean and log standard deviation of a tanh-squashed Gaussian policy per agent.

    Init args:
      action_dim: size of each agent's continuous action.
    Call args:
      embedding: float32 [nodes, units].
    Call returns:
      (mean, log_std), each float32 [nodes, action_dim]; log_std clipped to
      [LOG_STD_MIN, LOG_STD_MAX] smoothly with tanh.
    """

    def __init__(self, action_dim: int, kernel_initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.action_dim = check_int("action_dim", action_dim)
        self.kernel_initializer = tf.keras.initializers.get(kernel_initializer)
        self.params = tf.keras.layers.Dense(2 * action_dim, kernel_initializer=fresh_initializer(self.kernel_initializer),
                                            name="mean_and_log_std")

    def call(self, embedding):
        mean, raw_log_std = tf.split(self.params(embedding), 2, axis=-1)
        log_std = LOG_STD_MIN + 0.5 * (LOG_STD_MAX - LOG_STD_MIN) * (tf.tanh(raw_log_std) + 1.0)
        return mean, log_std

    def get_config(self):
        return dict(super().get_config(), action_dim=self.action_dim,
                    kernel_initializer=tf.keras.initializers.serialize(self.kernel_initializer))


def gumbel_max_sample(logits, uniform):
    """Exact categorical samples via the Gumbel-max trick.

    Args:
      logits: float [..., A]. uniform: float [..., A] in (0, 1).
    Returns:
      int32 [...].
    """
    return tf.argmax(logits + gumbel_noise(uniform), axis=-1, output_type=tf.int32)


def gumbel_noise(uniform):
    """-log(-log u), with u kept inside (0, 1)."""
    uniform = tf.clip_by_value(uniform, 1e-10, 1.0 - 1e-7)
    return -tf.math.log(-tf.math.log(uniform))


def straight_through_gumbel_softmax(logits, uniform, temperature=1.0):
    """One-hot samples whose gradient is that of the Gumbel-softmax relaxation.

    Forward value: one_hot(argmax(logits + g)), an exact sample of softmax(logits).
    Backward: d softmax((logits + g) / temperature). This is how a sampled discrete action
    of agent i carries the gradient of its neighbours' critics Q_j(s, a_j, a_Nj) back to
    agent i's policy (paper section 4.2, policy loss).

    Args:
      logits: float [..., A]. uniform: float [..., A] in (0, 1).
      temperature: relaxation temperature (> 0).
    Returns:
      float [..., A] one-hot.
    """
    perturbed = logits + gumbel_noise(uniform)
    soft = tf.nn.softmax(perturbed / temperature, axis=-1)
    hard = tf.one_hot(tf.argmax(perturbed, axis=-1), tf.shape(logits)[-1], dtype=soft.dtype)
    return hard + soft - tf.stop_gradient(soft)


def tanh_gaussian_sample(mean, log_std, normal):
    """Reparameterised sample of tanh(N(mean, std)) and its log density.

    Args:
      mean, log_std: float [..., k]. normal: float [..., k] standard normal noise.
    Returns:
      (action in (-1, 1) [..., k], log_prob [...]) with the change-of-variables term
      log(1 - tanh(u)^2) subtracted per dimension.
    """
    std = tf.exp(log_std)
    pre_tanh = mean + std * normal
    action = tf.tanh(pre_tanh)
    gaussian_log_prob = -0.5 * tf.square(normal) - log_std - 0.5 * math.log(2.0 * math.pi)
    # log|d tanh(u)/du| = log(1 - tanh(u)^2) = 2 (log 2 - u - softplus(-2u)), stable for large |u|.
    log_det = 2.0 * (math.log(2.0) - pre_tanh - tf.nn.softplus(-2.0 * pre_tanh))
    return action, tf.reduce_sum(gaussian_log_prob - log_det, axis=-1)
