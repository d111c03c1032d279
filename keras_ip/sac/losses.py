"""The section 4.2 / appendix I losses of intention propagation, as pure functions.

Shapes: every per-agent tensor is flat over the batch, [batch * num_agents]; a mean over
that axis is the paper's expectation over replay states and sum over agents divided by
the constant N (Adam's updates are invariant to that constant factor).

Every loss takes optional `weights` [batch * num_agents]: the mean becomes the weighted
mean sum_i w_i x_i / sum_i w_i. With 0/1 weights it is the loss of the weighted agents
only (`keras_ip.group_policies`: groups with a fixed policy take no loss).
"""

from __future__ import annotations

import tensorflow as tf


def agent_mean(values, weights=None):
    """Mean of [batch * agents] values, or their `weights`-weighted mean (weights >= 0, not all 0)."""
    if weights is None:
        return tf.reduce_mean(values)
    weights = tf.cast(weights, values.dtype)
    return tf.reduce_sum(weights * values) / tf.reduce_sum(weights)


def td_target(rewards, dones, next_value, gamma):
    """Q-hat_i = r_i + gamma * (1 - done_i) * V-bar_i(s').  All [batch * agents]; no gradient."""
    return tf.stop_gradient(rewards + gamma * (1.0 - dones) * next_value)


def critic_loss(q1, q2, q_target, weights=None):
    """J(kappa) = E[1/2 (Q_kappa_i(s, a_i, a_Ni) - Q-hat_i)^2], summed over the twin critics.

    Args:
      q1: [batch * agents] first twin critic at the replayed actions.
      q2: [batch * agents] second twin critic at the replayed actions.
      q_target: [batch * agents] from `td_target`.
    Returns:
      scalar.
    """
    return 0.5 * agent_mean(tf.square(q1 - q_target), weights) + 0.5 * agent_mean(tf.square(q2 - q_target), weights)


def value_loss(v, q_pi, log_pi, alpha, weights=None):
    """J(eta) = E[1/2 (V_eta_i(s) - (min_k Q_k,i(s, a_i, a_Ni) - alpha log q_i(a_i|s)))^2].

    Args:
      v: [batch * agents] V_i(s).
      q_pi: [batch * agents] min of the twin critics at actions freshly sampled from q
        (for discrete actions: its exact expectation over the own action, see
        `keras_ip.sac.policy.policy_terms`).
      log_pi: [batch * agents] log q_i (for discrete actions: its exact expectation).
      alpha: scalar entropy weight.
    Returns:
      scalar; the target carries no gradient.
    """
    target = tf.stop_gradient(q_pi - alpha * log_pi)
    return 0.5 * agent_mean(tf.square(v - target), weights)


def policy_loss(log_pi, q_pi, alpha, weights=None):
    """J(theta) = E_{s~D, a~prod_i q_i}[sum_i alpha log q_i(a_i|s) - sum_i Q_i(s, a_i, a_Ni)] / N.

    Args:
      log_pi: [batch * agents], differentiable in the policy parameters.
      q_pi: [batch * agents] min twin critic at the sampled joint action, differentiable
        in the actions (so agent i also receives the gradient of its neighbours' Q_j).
      alpha: scalar entropy weight.
    Returns:
      scalar.
    """
    return agent_mean(tf.stop_gradient(alpha) * log_pi - q_pi, weights)


def alpha_loss(log_alpha, log_pi, target_entropy, weights=None):
    """Automatic entropy tuning: J(alpha) = -E[log_alpha * (log q_i + target_entropy)].

    Minimising it raises alpha while the policy's entropy is below target_entropy.
    """
    return -agent_mean(log_alpha * tf.stop_gradient(log_pi + target_entropy), weights)
