"""IP's policy network without intention messages: the `ip_state_only` ablation (issue 16).

Separates the two kinds of message the mean-field policy passes (section 4.1, figure 6): the
state messages h, which any GNN policy passes (DGN's, for one), and the intention messages mu,
which only intention propagation passes. With the same depth, the same state messages and the
same receptive field as `MeanFieldPropagation`, a win of IP over this layer is a win of the
intention messages themselves.
"""

from __future__ import annotations

import tensorflow as tf

from keras_ip.layers.base import PropagationBase
from keras_ip.layers.graph_ops import GraphOps


@tf.keras.utils.register_keras_serializable(package="keras_ip")
class StateOnlyPropagation(PropagationBase):
    """M hops of state messages and no intention: eq. 5 with mu removed from every hop.

      h_i^m = relu(W_self^m h_i^{m-1} + W_nb^m agg_{j in N(i)} h_j^{m-1}),      m = 1 .. M - 1
      out_i = relu(W1^M h_i^{M-1} + W2^M agg_{j in N(i)} h_j^{M-1} + b^M)

    The mean-field layer's last hop is mu_i^M = relu(W1^M h_i^{M-1} + W2^M agg_j mu_j^{M-1} + b^M):
    here the neighbours' state embeddings h_j^{M-1} take the place of their intentions
    mu_j^{M-1}, so agent i's output depends on the observations within M hops, as IP's does,
    but no agent's intention (mu^0 = softmax(W_mu h^0) or any later mu) enters a hop. The
    independent intention mu^0 is not computed (the layer has no `intention_0` weights).

    Example:
      >>> layer = StateOnlyPropagation(units=16, hops=2, intention_dim=5)
      >>> graph = keras_ip.graphs.graph_tensor(tf.zeros([9, 3]), keras_ip.graphs.grid(3, 3))
      >>> layer(graph).shape
      TensorShape([9, 16])

    Init args: see `PropagationBase` (`intention_dim` is accepted for a uniform interface and
      unused).
    Call args:
      graph: `tfgnn.GraphTensor`, node feature "hidden_state" [nodes, obs_dim].
    Call returns:
      float32 [nodes, units].
    """

    uses_intentions = False

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.w_self = self._dense(self.units, None, f"out_self_{self.hops}")
        self.w_neighbours = self._dense(self.units, None, f"out_neighbours_{self.hops}", use_bias=False)

    def propagate(self, h0: tf.Tensor, mu0: None, ops: GraphOps) -> tf.Tensor:
        del mu0  # no intentions
        h = h0
        for m in range(1, self.hops):
            h = self.state_messages(h, m, ops)                                       # [nodes, units]
        return tf.nn.relu(self.w_self(h) + self.w_neighbours(ops.aggregate_neighbours(h)))  # [nodes, units]
