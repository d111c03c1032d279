"""Turning the actor's outputs into actions: differentiable samples for the losses and
environment actions for acting. Randomness comes from a `tf.random.Generator`, so both
work inside one compiled function without retracing.
"""

from __future__ import annotations

import tensorflow as tf

from keras_ip.layers.heads import gumbel_max_sample, straight_through_gumbel_softmax, tanh_gaussian_sample
from keras_ip.networks import ActionSpec


def policy_terms(actor_output, critics, graph, spec: ActionSpec, generator: tf.random.Generator,
                 gumbel_temperature=1.0):
    """E_{a ~ prod_i q_i}[min_k Q_k,i(s, a_i, a_Ni)] and E[log q_i(a_i|s)] per agent, differentiable.

    Discrete actions: the expectation over agent i's OWN action is exact,
    sum_a q_i(a) Q_i(s, a, a~_Ni), because the critic returns Q_i for every own action;
    the neighbours' actions a~_Ni are straight-through Gumbel-softmax samples (forward: an
    exact one-hot sample; backward: the relaxed sample's gradient), so the gradient of
    every Q_j that reads a_i reaches agent i. E[log q_i] = sum_a q_i(a) log q_i(a), exact.
    (Straight-through for the own action too would linearise Q_i at the sampled one-hot
    and bias the policy towards staying stochastic.)
    Continuous actions: one reparameterised tanh-Gaussian joint sample and its log density.

    Args:
      actor_output: logits [nodes, A] or (mean, log_std) [nodes, k].
      critics: the twin critics (callables graph, actions -> Q).
      graph: the GraphTensor the actor and critics read.
    Returns:
      (q_pi [nodes], log_pi [nodes]).
    """
    if spec.discrete:
        logits = actor_output
        log_probs = tf.nn.log_softmax(logits)                            # [nodes, A]
        probs = tf.exp(log_probs)
        sampled = straight_through_gumbel_softmax(logits, generator.uniform(tf.shape(logits)), gumbel_temperature)
        q_every_own_action = tf.minimum(*[critic(graph, sampled) for critic in critics])  # [nodes, A]
        return tf.reduce_sum(probs * q_every_own_action, -1), tf.reduce_sum(probs * log_probs, -1)
    mean, log_std = actor_output
    actions, log_pi = tanh_gaussian_sample(mean, log_std, generator.normal(tf.shape(mean)))
    return tf.minimum(*[critic(graph, actions) for critic in critics]), log_pi


def replayed_q(critic, graph, actions, spec: ActionSpec):
    """Q_i(s, a_i, a_Ni) at replayed env actions [nodes] or [nodes, k] -> [nodes]."""
    features = critic_action_features(actions, spec)
    q = critic(graph, features)
    if spec.discrete:
        return tf.gather(q, tf.cast(actions, tf.int32), axis=-1, batch_dims=1)
    return q


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
