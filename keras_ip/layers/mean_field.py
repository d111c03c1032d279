"""Intention propagation by mean-field inference (paper eq. 5, section 4.1, figure 6)."""

from __future__ import annotations

import tensorflow as tf

from keras_ip._checks import check_int
from keras_ip._names import AGGREGATIONS
from keras_ip.layers.base import PropagationBase
from keras_ip.layers.graph_ops import GraphOps


@tf.keras.utils.register_keras_serializable(package="keras_ip")
class NeighbourAttention(tf.keras.layers.Layer):
    """Learned weights of each agent's in-neighbours (GATv2 scores, Brody et al. 2022).

      e_ji     = a^T LeakyReLU(W_s h_j + W_r h_i + b)        for each edge j -> i
      alpha_ji = softmax over j in N(i) of e_ji

    The paper's GNN "employs the attention mechanism" (appendix E) so that an agent can listen
    to some neighbours more than others; plain sums and means weigh all alike.

    Init args:
      units: width of the score MLP.
    Call args:
      h: float32 [nodes, d], the embeddings the scores compare.
      ops: `GraphOps` of the graph.
    Call returns:
      float32 [edges], alpha_ji: non-negative, summing to 1 over each node's incoming edges.
    """

    def __init__(self, units: int, **kwargs):
        super().__init__(**kwargs)
        self.units = check_int("units", units)
        self.w_sender = tf.keras.layers.Dense(self.units, use_bias=False, name="sender")
        self.w_receiver = tf.keras.layers.Dense(self.units, name="receiver")
        self.score = tf.keras.layers.Dense(1, use_bias=False, name="score")

    def call(self, h: tf.Tensor, ops: GraphOps) -> tf.Tensor:
        pair = ops.from_senders(self.w_sender(h)) + ops.from_receivers(self.w_receiver(h))  # [edges, units]
        scores = self.score(tf.nn.leaky_relu(pair, alpha=0.2))[:, 0]                       # [edges]
        return ops.softmax_at_receivers(scores)

    def get_config(self):
        return dict(super().get_config(), units=self.units)


@tf.keras.utils.register_keras_serializable(package="keras_ip")
class MeanFieldPropagation(PropagationBase):
    """M hops of the embedded mean-field fixed-point update, eq. 5.

      mu_i^m = relu(W1^m h_i^{m-1} + W2^m agg_{j in N(i)} mu_j^{m-1} + b^m),   m = 1 .. M

    starting from the independent intention mu_i^0 = softmax(W_mu MLP(s_i)); h^{m-1} is the
    state embedding after m-1 hops of state messages (the paper passes state messages too,
    because no agent sees the global state). Figure 6 writes W1 (s_i + s_j); keeping
    separate self/neighbour state weights is the same family with W_self = W_nb. `agg` is the
    paper's sum, (default) the mean over N(i), or with aggregation="attention" the weighted sum
    sum_j alpha_ji^m x_j, alpha^m = `NeighbourAttention` of h^{m-1}: one set of weights per hop,
    shared by that hop's intention and state messages.

    Example:
      >>> layer = MeanFieldPropagation(units=16, hops=2, intention_dim=5)
      >>> graph = keras_ip.graphs.graph_tensor(tf.zeros([9, 3]), keras_ip.graphs.grid(3, 3))
      >>> layer(graph).shape
      TensorShape([9, 16])

    Init args: see `PropagationBase`.
    Call args:
      graph: `tfgnn.GraphTensor`, node feature "hidden_state" [nodes, obs_dim].
    Call returns:
      mu^M, float32 [nodes, units].
    """

    aggregations = AGGREGATIONS  # "attention" too: only this variant learns neighbour weights

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.attention = ([NeighbourAttention(self.units, name=f"attention_{m}") for m in range(1, self.hops + 1)]
                          if self.aggregation == "attention" else [])
        self.w_state = [self._dense(self.units, None, f"mu_state_{m}") for m in range(1, self.hops + 1)]
        self.w_intention = [self._dense(self.units, None, f"mu_neighbours_{m}", use_bias=False)
                            for m in range(1, self.hops + 1)]

    def propagate(self, h0: tf.Tensor, mu0: tf.Tensor, ops: GraphOps) -> tf.Tensor:
        h, mu = h0, mu0
        for m in range(1, self.hops + 1):
            hop_ops = ops.weighted(self.attention[m - 1](h, ops)) if self.attention else ops
            incoming = hop_ops.aggregate_neighbours(mu)                               # [nodes, dim(mu^{m-1})]
            mu = tf.nn.relu(self.w_state[m - 1](h) + self.w_intention[m - 1](incoming))  # [nodes, units]
            if m < self.hops:
                h = self.state_messages(h, m, hop_ops)
        return mu
