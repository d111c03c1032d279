"""Intention propagation by loopy belief propagation (paper appendix B.2)."""

from __future__ import annotations

import tensorflow as tf

from keras_ip.layers.base import PropagationBase
from keras_ip.layers.graph_ops import GraphOps


def reverse_messages(nu, reverse):
    """nu [edges, d] gathered at each edge's reverse edge; zeros where reverse is -1."""
    present = reverse >= 0                                             # [edges]
    gathered = tf.gather(nu, tf.maximum(reverse, 0))                   # [edges, d]
    return tf.where(present[:, None], gathered, tf.zeros_like(gathered))


def messages_excluding_reverse(ops: GraphOps):
    """float32 [edges]: for edge i -> j, how many messages nu_ki with k != j reach i."""
    return ops.from_senders(ops.in_degree()[:, None])[:, 0] - tf.cast(ops.reverse >= 0, tf.float32)


@tf.keras.utils.register_keras_serializable(package="keras_ip")
class LoopyBPPropagation(PropagationBase):
    """Embedded loopy belief propagation: messages on directed edges, then marginals.

      nu_ij^m = relu(W1^m h_i^{m-1} + W2^m agg_{k in N(i) \\ j} nu_ki^{m-1} + b^m),  m = 1 .. M
      mu_i    = relu(W3 h_i^{M-1} + W4 agg_{k in N(i)} nu_ki^M + b)

    with nu_ij^0 = mu_i^0, the sender's independent intention. The sum that excludes the
    reverse edge is computed as (all messages into i) - nu_ji, with `nu_ji` gathered through
    the graph's reverse-edge index: cost O(edges * units), never a dense N x N matrix. On a
    directed graph (e.g. each agent listening to its k nearest) an edge i -> j whose reverse
    j -> i is absent has nothing to exclude: j sends i no message. `agg` is the paper's sum or
    (default) the mean over the messages it combines; see `PropagationBase`.

    Example:
      >>> layer = LoopyBPPropagation(units=16, hops=2, intention_dim=5)
      >>> graph = keras_ip.graphs.graph_tensor(tf.zeros([9, 3]), keras_ip.graphs.grid(3, 3))
      >>> layer(graph).shape
      TensorShape([9, 16])

    Init args: see `PropagationBase`.
    Call args:
      graph: `tfgnn.GraphTensor` whose edge set carries the "reverse" feature.
    Call returns:
      mu, float32 [nodes, units].
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.w_message_state = [self._dense(self.units, None, f"nu_state_{m}") for m in range(1, self.hops + 1)]
        self.w_message_in = [self._dense(self.units, None, f"nu_incoming_{m}", use_bias=False)
                             for m in range(1, self.hops + 1)]
        self.w_marginal_state = self._dense(self.units, None, "mu_state")
        self.w_marginal_in = self._dense(self.units, None, "mu_incoming", use_bias=False)

    def propagate(self, h0: tf.Tensor, mu0: tf.Tensor, ops: GraphOps) -> tf.Tensor:
        if ops.reverse is None:
            raise ValueError("LoopyBPPropagation needs the edge feature 'reverse'; build the GraphTensor with "
                             "keras_ip.graphs.graph_tensor or GraphBatcher.")
        h = h0
        nu = ops.from_senders(mu0)                                       # [edges, intention_dim]
        counts = messages_excluding_reverse(ops)                         # [edges]
        for m in range(1, self.hops + 1):
            into_sender = ops.from_senders(ops.sum_at_receivers(nu))     # [edges, dim]: sum_k nu_ki, i = sender
            excluding_reverse = ops.normalise(into_sender - reverse_messages(nu, ops.reverse), counts)  # minus nu_ji
            nu = tf.nn.relu(self.w_message_state[m - 1](ops.from_senders(h))
                            + self.w_message_in[m - 1](excluding_reverse))  # [edges, units]
            if m < self.hops:
                h = self.state_messages(h, m, ops)
        return tf.nn.relu(self.w_marginal_state(h) + self.w_marginal_in(ops.aggregate_at_receivers(nu)))
