"""Per-agent critics that see the neighbourhood through message passing (paper section 4.2).

Q_i(s, a_i, a_Ni) and V_i(s) are graph networks over the same agent graph as the policy,
so agent i's critic sees its neighbours' states and actions and the cost is
O(agents * degree), not O(agents^2).
"""

from __future__ import annotations

import tensorflow as tf
import tensorflow_gnn as tfgnn

from keras_ip.graphs.tensor import AGENTS, HIDDEN_STATE
from keras_ip.layers.base import GraphOps, check_positive_int


@tf.keras.utils.register_keras_serializable(package="keras_ip")
class NeighbourhoodCritic(tf.keras.layers.Layer):
    """A scalar per agent from its own and its neighbours' inputs.

      e_i^0 = MLP([s_i, a_i])
      e_i^m = relu(W_self^m e_i^{m-1} + W_nb^m sum_{j in N(i)} e_j^{m-1} + b^m),  m = 1 .. hops
      out_i = w^T e_i^hops + c

    With actions this is Q_i(s, a_i, a_Ni); without (actions=None) it is V_i(s).

    Init args:
      units: hidden width.
      hops: message-passing rounds (>= 1 so a_Ni reaches Q_i).
      encoder_layers: depth of the input MLP.
    Call args:
      graph: `tfgnn.GraphTensor`, node feature "hidden_state" [nodes, obs_dim].
      actions: optional float32 [nodes, action_features] (one-hot or continuous in [-1, 1]).
    Call returns:
      float32 [nodes].
    """

    def __init__(self, units: int = 128, hops: int = 1, encoder_layers: int = 1, **kwargs):
        super().__init__(**kwargs)
        self.units = check_positive_int("units", units)
        self.hops = check_positive_int("hops", hops)
        self.encoder_layers = check_positive_int("encoder_layers", encoder_layers)
        self.encoder = [tf.keras.layers.Dense(units, "relu", name=f"encoder_{k}") for k in range(encoder_layers)]
        self.w_self = [tf.keras.layers.Dense(units, name=f"self_{m}") for m in range(hops)]
        self.w_neighbours = [tf.keras.layers.Dense(units, use_bias=False, name=f"neighbours_{m}") for m in range(hops)]
        self.out = tf.keras.layers.Dense(1, name="out")

    def call(self, graph: tfgnn.GraphTensor, actions=None):
        e = graph.node_sets[AGENTS][HIDDEN_STATE]
        if actions is not None:
            e = tf.concat([e, tf.cast(actions, e.dtype)], axis=-1)  # [nodes, obs_dim + action_features]
        for layer in self.encoder:
            e = layer(e)
        ops = GraphOps(graph)
        for w_self, w_neighbours in zip(self.w_self, self.w_neighbours):
            e = tf.nn.relu(w_self(e) + w_neighbours(ops.sum_of_neighbours(e)))  # [nodes, units]
        return tf.squeeze(self.out(e), axis=-1)

    def get_config(self):
        return dict(super().get_config(), units=self.units, hops=self.hops, encoder_layers=self.encoder_layers)
