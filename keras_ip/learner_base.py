"""What every learner shares (SAC's and the Q-learning baselines'): replayed batches to
GraphTensors, per-agent rewards, dones and loss weights, the Polyak target update, and
building networks on a dummy graph.

Each learner keeps only its losses and its compiled step `train_step(batch) -> dict of scalars`.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from keras_ip.graphs.tensor import GROUP, GraphBatcher, graph_tensor, replay_graph_tensor
from keras_ip.graphs.topology import Graph


class LearnerBase:
    """The graph plumbing of a learner's update.

    Init args:
      graph: the static agent graph, or None when every batch carries per-sample graphs.
      group_ids: int [N] agent groups when there are several, else None.
      trained_weights: float [N], 1 for the agents that learn and 0 for those of groups with a
        fixed policy (no loss over their rows), or None when every agent learns.
    """

    def __init__(self, graph: Graph | None, group_ids=None, trained_weights=None):
        self.group_ids = group_ids
        self.batcher = None if graph is None else GraphBatcher(graph, group_ids)
        self.trained_weights = None if trained_weights is None else tf.constant(trained_weights, tf.float32)  # [N]

    def graph_tensor(self, observations, senders=None, receivers=None):
        """[B, N, d] joint states (and optional per-row edges [B, E]) -> GraphTensor."""
        return replay_graph_tensor(self.batcher, observations, senders, receivers, self.group_ids)

    def transition_graphs(self, batch):
        """(GraphTensor of s, GraphTensor of s') of a `keras_ip.replay.Batch`, each on its own graph."""
        observations = tf.convert_to_tensor(batch.observations, tf.float32)             # [B, N, d]
        next_observations = tf.convert_to_tensor(batch.next_observations, tf.float32)   # [B, N, d]
        return (self.graph_tensor(observations, batch.senders, batch.receivers),
                self.graph_tensor(next_observations, batch.next_senders, batch.next_receivers))

    def agent_weights(self, batch):
        """float32 [B * N] loss weights of the batch's agent rows, or None when every agent learns."""
        if self.trained_weights is None:
            return None
        return tf.tile(self.trained_weights, [tf.shape(batch.rewards)[0]])


def rewards_and_dones(batch):
    """The batch's rewards and dones as float32 [B * N] (one row per agent and sample)."""
    rewards = tf.reshape(tf.cast(batch.rewards, tf.float32), [-1])   # [B * N]
    dones = tf.reshape(tf.cast(batch.dones, tf.float32), [-1])       # [B * N]
    return rewards, dones


def polyak_update(target_variables, source_variables, tau) -> None:
    """target <- tau * source + (1 - tau) * target, variable by variable (tau = 1: a copy)."""
    for target, source in zip(target_variables, source_variables):
        target.assign(tau * source + (1.0 - tau) * target)


def build_on_dummy_graph(obs_dim: int, num_groups: int, *calls) -> None:
    """Creates the variables of networks by calling each, in order, on a 2-agent graph.

    Args:
      obs_dim: per-agent observation size. num_groups: agent groups.
      calls: (network, *extra_inputs) tuples, each extra input for 2 agents.
    """
    dummy = graph_tensor(np.zeros((2, obs_dim), np.float32), Graph(2, np.array([0, 1]), np.array([1, 0])),
                         **({GROUP: np.zeros(2, np.int32)} if num_groups > 1 else {}))
    for network, *extra_inputs in calls:
        network(dummy, *extra_inputs)


def copy_weights(target, source) -> None:
    """Sets every variable of the network `target` to its counterpart in `source`."""
    for target_variable, variable in zip(target.variables, source.variables):
        target_variable.assign(variable)
