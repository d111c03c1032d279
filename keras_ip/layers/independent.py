"""The paper's independent-policy ablation (appendix F.1): same depth, no messages."""

from __future__ import annotations

import tensorflow as tf

from keras_ip._names import AGGREGATIONS
from keras_ip.layers.base import PropagationBase
from keras_ip.layers.graph_ops import GraphOps


@tf.keras.utils.register_keras_serializable(package="keras_ip")
class IndependentPropagation(PropagationBase):
    """Replaces intention propagation by an independent network of the same depth.

      mu_i^m = relu(W1^m h_i^{m-1} + W2^m mu_i^{m-1} + b^m),  h_i^m = relu(W^m h_i^{m-1} + b),

    i.e. the mean-field update with every neighbour sum removed: agent i's output depends on
    s_i only, and with degree_input (the default) on its number of neighbours, no message from
    them. (The critics still see neighbours' actions, as in the paper's ablation.)

    Init args: see `PropagationBase`.
    Call args:
      graph: `tfgnn.GraphTensor`; its edges are ignored.
    Call returns:
      float32 [nodes, units].
    """

    passes_state_messages = False
    aggregations = AGGREGATIONS  # any: nothing is aggregated

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.w_state = [self._dense(self.units, None, f"mu_state_{m}") for m in range(1, self.hops + 1)]
        self.w_own = [self._dense(self.units, None, f"mu_own_{m}", use_bias=False) for m in range(1, self.hops + 1)]
        self.w_hidden = [self._dense(self.units, "relu", f"state_{m}") for m in range(1, self.hops)]

    def propagate(self, h0: tf.Tensor, mu0: tf.Tensor, ops: GraphOps) -> tf.Tensor:
        del ops  # no communication
        h, mu = h0, mu0
        for m in range(1, self.hops + 1):
            mu = tf.nn.relu(self.w_state[m - 1](h) + self.w_own[m - 1](mu))  # [nodes, units]
            if m < self.hops:
                h = self.w_hidden[m - 1](h)
        return mu
