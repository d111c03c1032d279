"""Turning the actor's outputs into actions: differentiable samples for the losses and
environment actions for acting. Randomness comes from a `tf.random.Generator`, so both
work inside one compiled function without retracing.
"""

from __future__ import annotations

import tensorflow as tf

from keras_ip.layers.heads import gumbel_max_sample, straight_through_gumbel_softmax, tanh_gaussian_sample
from keras_ip.networks import ActionSpec


def policy_terms(actor_output, min_q, spec: ActionSpec, noise, gumbel_temperature=1.0):
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
      min_q: callable, critic action inputs [nodes, A] or [nodes, k] -> min of the twin
        critics, [nodes, A] (every own action) or [nodes].
      noise: uniform (0, 1) [nodes, A] (discrete) or standard normal [nodes, k] (continuous),
        from `policy_noise`.
    Returns:
      (q_pi [nodes], log_pi [nodes]).
    """
    if spec.discrete:
        logits = actor_output
        log_probs = tf.nn.log_softmax(logits)                            # [nodes, A]
        probs = tf.exp(log_probs)
        sampled = straight_through_gumbel_softmax(logits, noise, gumbel_temperature)
        return tf.reduce_sum(probs * min_q(sampled), -1), tf.reduce_sum(probs * log_probs, -1)
    mean, log_std = actor_output
    actions, log_pi = tanh_gaussian_sample(mean, log_std, noise)
    return min_q(actions), log_pi


def policy_noise(generator: tf.random.Generator, num_nodes, spec: ActionSpec):
    """The noise `policy_terms` needs for num_nodes agents: uniform [nodes, A] or normal [nodes, k]."""
    if spec.discrete:
        return generator.uniform([num_nodes, spec.num_actions])
    return generator.normal([num_nodes, spec.action_dim])


def replayed_q(critics, state, actions, spec: ActionSpec):
    """Twin Q_i(s, a_i, a_Ni) at replayed env actions [nodes] or [nodes, k] -> [nodes, copies].

    `state` is `critics.state_features(graph)`, shared with the policy terms.
    """
    features = critic_action_features(actions, spec)                   # [nodes, A] or [nodes, k]
    q = critics.q_values(state, features)                              # [nodes, copies, A] or [nodes, copies]
    if spec.discrete:
        return tf.reduce_sum(q * features[:, None, :], axis=-1)        # Q at the replayed own action
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


def compiled_actions(actor, spec: ActionSpec, generator: tf.random.Generator, jit_compile: bool, to_graph):
    """One compiled call from joint states [K, N, d] to actions [K, N] or [K, N, k].

    K environment copies (or K joint states) share one call.

    Args:
      actor: the policy network (GraphTensor -> `select_actions` input).
      to_graph: (observations [K, N, d], *edges) -> GraphTensor, e.g. a `GraphBatcher`.
    Returns:
      a tf.function act(observations, deterministic, *edges) with `deterministic` a Python bool.
    """
    def act(observations, deterministic, *edges):
        shape = tf.shape(observations)
        actions = select_actions(actor(to_graph(observations, *edges)), spec, generator, deterministic)
        return tf.reshape(actions, tf.concat([shape[:2], tf.shape(actions)[1:]], axis=0))

    return tf.function(act, jit_compile=jit_compile)
