"""Turning the actor's outputs into actions: differentiable samples for the losses and
environment actions for acting. Randomness comes from a `tf.random.Generator`, so both
work inside one compiled function without retracing.
"""

from __future__ import annotations

import tensorflow as tf

from keras_ip.layers.heads import gumbel_max_sample, straight_through_gumbel_softmax, tanh_gaussian_sample
from keras_ip.networks import ActionSpec


def sample_for_training(actor_output, spec: ActionSpec, generator: tf.random.Generator, gumbel_temperature=1.0):
    """A joint action a ~ prod_i q_i(.|s) that carries gradients, and each agent's log q_i.

    Discrete actions use the straight-through Gumbel-softmax: the forward value is an exact
    one-hot sample, the backward pass is the relaxed sample's, so the policy gradient of
    sum_j Q_j(s, a_j, a_Nj) reaches agent i through every critic that reads a_i. The
    log-probability term is the exact expectation sum_a q_i(a) log q_i(a) (no variance).
    Continuous actions use the reparameterised tanh-Gaussian with its exact log density.

    Args:
      actor_output: logits [nodes, A] or (mean, log_std) [nodes, k].
    Returns:
      (critic_actions [nodes, A or k], log_pi [nodes]).
    """
    if spec.discrete:
        logits = actor_output
        log_probs = tf.nn.log_softmax(logits)                           # [nodes, A]
        one_hot = straight_through_gumbel_softmax(logits, generator.uniform(tf.shape(logits)), gumbel_temperature)
        return one_hot, tf.reduce_sum(tf.exp(log_probs) * log_probs, axis=-1)
    mean, log_std = actor_output
    return tanh_gaussian_sample(mean, log_std, generator.normal(tf.shape(mean)))


def select_actions(actor_output, spec: ActionSpec, generator: tf.random.Generator, deterministic: bool):
    """Environment actions: int32 [nodes] (discrete) or float32 [nodes, k] within [low, high].

    deterministic=True takes the mode: argmax of the logits, or tanh(mean).
    """
    if spec.discrete:
        if deterministic:
            return tf.argmax(actor_output, axis=-1, output_type=tf.int32)
        return gumbel_max_sample(actor_output, generator.uniform(tf.shape(actor_output)))
    mean, log_std = actor_output
    unit = tf.tanh(mean) if deterministic else tanh_gaussian_sample(mean, log_std, generator.normal(tf.shape(mean)))[0]
    return spec.from_unit_box(unit)


def critic_action_features(actions, spec: ActionSpec):
    """Replayed env actions [nodes] or [nodes, k] -> critic inputs (one-hot, or scaled to [-1, 1])."""
    if spec.discrete:
        return tf.one_hot(tf.cast(actions, tf.int32), spec.num_actions)
    return spec.to_unit_box(actions)
