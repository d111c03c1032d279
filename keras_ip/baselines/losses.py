"""The maths of the DGN and MFQ baselines, as pure functions of tensors.

Shapes: per-agent tensors are flat over the batch, [nodes] = [batch * num_agents]; edge
tensors are [edges] over the batched graph; A is the number of actions, H the heads.
"""

from __future__ import annotations

import tensorflow as tf

from keras_ip.layers.graph_ops import GraphOps
from keras_ip.networks import INVALID_SCORE
from keras_ip.sac.losses import agent_mean


def q_loss(q_taken, q_target, weights=None):
    """E[(Q(s_i, a_i) - y_i)^2]: the TD loss of every agent on its own reward.

    Args:
      q_taken: [nodes] Q at the replayed actions.
      q_target: [nodes] from `keras_ip.sac.losses.td_target` (no gradient).
      weights: optional [nodes] agent weights (0 for agents that do not learn).
    Returns:
      scalar.
    """
    return agent_mean(tf.square(q_taken - q_target), weights)


def linear_epsilon(step, start: float, end: float, steps: int) -> float:
    """The exploration rate after `step` environment steps: start -> end linearly over `steps`, then end."""
    return end + (start - end) * max(0.0, 1.0 - step / steps)


def epsilon_greedy_log_probs(q, epsilon):
    """log pi(a | s) of the epsilon-greedy policy: (1 - eps) on argmax_a Q, eps spread uniformly
    over the agent's valid actions (eps / A when it has all A; actions its group lacks, whose Q
    is `keras_ip.networks.INVALID_SCORE`, get probability 0).

    Sampling from these logits (Gumbel-max) is exactly epsilon-greedy, and their argmax is
    the greedy action whenever eps < 1; with eps = 0 the non-greedy actions get -inf.

    Args:
      q: [nodes, A]. epsilon: scalar in [0, 1].
    Returns:
      [nodes, A].
    """
    num_actions = tf.shape(q)[-1]
    greedy = tf.one_hot(tf.argmax(q, axis=-1), num_actions, dtype=q.dtype)      # [nodes, A]
    valid = tf.cast(q > INVALID_SCORE / 2, q.dtype)                              # [nodes, A]
    return tf.math.log((1.0 - epsilon) * greedy + epsilon * valid / tf.reduce_sum(valid, -1, keepdims=True))


def neighbourhood_log_softmax(self_scores, edge_scores, ops: GraphOps):
    """log alpha over each agent's neighbourhood N(i) + {i}: a softmax of its own score and
    the scores of its incoming edges, computed stably (shifted by the per-agent maximum).

    Args:
      self_scores: [nodes, H], score of i -> i. edge_scores: [edges, H], score of j -> i.
      ops: `GraphOps` of the graph.
    Returns:
      (log_alpha_self [nodes, H], log_alpha_edges [edges, H]).
    """
    shift = tf.stop_gradient(tf.maximum(self_scores, ops.max_at_receivers(edge_scores)))  # [nodes, H]
    normaliser = tf.exp(self_scores - shift) + ops.sum_at_receivers(tf.exp(edge_scores - ops.from_receivers(shift)))
    log_z = shift + tf.math.log(normaliser)                                              # [nodes, H]
    return self_scores - log_z, edge_scores - ops.from_receivers(log_z)


def attention_kl(log_p, log_q, ops: GraphOps):
    """DGN's temporal relation regulariser: KL(p_i || q_i) between two attention distributions
    over the same neighbourhoods, averaged over agents and heads.

    Args:
      log_p, log_q: each (log_alpha_self [nodes, H], log_alpha_edges [edges, H]), as from
        `neighbourhood_log_softmax` (p: online network at s; q: target network at s').
      ops: `GraphOps` of the graph both were computed on.
    Returns:
      scalar.
    """
    (p_self, p_edges), (q_self, q_edges) = log_p, log_q
    own = tf.exp(p_self) * (p_self - q_self)                                   # [nodes, H]
    others = ops.sum_at_receivers(tf.exp(p_edges) * (p_edges - q_edges))       # [nodes, H]
    return tf.reduce_mean(own + others)


def neighbour_mean_action(action_probs, ops: GraphOps):
    """abar_i = 1/|N(i)| sum_{j in N(i)} a_j, the mean (one-hot or probability) action of i's
    neighbours (MFQ's eq. 2); 0 for an agent without neighbours.

    Args:
      action_probs: [nodes, A], one-hot actions or action probabilities.
      ops: `GraphOps` with aggregation="mean".
    Returns:
      [nodes, A].
    """
    return ops.aggregate_neighbours(action_probs)


def boltzmann(q, temperature):
    """pi(a | s, abar) = exp(Q(s, a, abar) / T) / sum_b exp(Q(s, b, abar) / T) (MFQ's eq. 12). [nodes, A]."""
    return tf.nn.softmax(q / temperature)


def mean_field_actions(q_of, ops: GraphOps, num_nodes, num_actions: int, temperature, iterations: int):
    """The mean actions a Boltzmann policy conditions on: abar^0 uniform, then `iterations`
    rounds of abar_i <- mean_{j in N(i)} pi_j(. | s_j, abar_j).

    Args:
      q_of: callable abar [nodes, A] -> Q(s, ., abar) [nodes, A] (the states are bound).
      ops: `GraphOps` with aggregation="mean".
      num_nodes: int scalar, the number of agents in the batch.
      num_actions: A. temperature: T. iterations: >= 1.
    Returns:
      abar [nodes, A].
    """
    mean_actions = tf.fill([num_nodes, num_actions], 1.0 / num_actions)       # [nodes, A]
    for _ in range(iterations):
        mean_actions = neighbour_mean_action(boltzmann(q_of(mean_actions), temperature), ops)
    return mean_actions


def mean_field_value(q_online_of, q_target_of, mean_actions, temperature):
    """v^MF(s'_i) = sum_a pi(a | s'_i, abar'_i) Q_target(s'_i, a, abar'_i) (MFQ's eq. 10), with
    pi the Boltzmann policy of the online Q network. No gradient.

    Args:
      q_online_of, q_target_of: callables abar [nodes, A] -> Q(s', ., abar) [nodes, A].
      mean_actions: abar' [nodes, A], from `mean_field_actions` at s'.
      temperature: T.
    Returns:
      [nodes].
    """
    pi = boltzmann(q_online_of(mean_actions), temperature)                      # [nodes, A]
    return tf.stop_gradient(tf.reduce_sum(pi * q_target_of(mean_actions), axis=-1))
