"""Per-agent critics that see the neighbourhood through message passing (paper section 4.2).

Q_i(s, a_i, a_Ni) and V_i(s) are graph networks over the same agent graph as the policy,
so the cost is O(agents * degree), never O(agents^2).

Structure: `hops` rounds of state messages give h_i (agent i's view of the states around
it); one round of action messages gives c_i = sum_{j in N(i)} relu(W [h_j, a_j]), the
neighbours' actions in context. Agent i's own action enters only at the output, so for
discrete actions one pass yields Q_i(s, a, a_Ni) for every own action a, which lets the
learner take the exact expectation over a_i ~ q_i.
"""

from __future__ import annotations

import tensorflow as tf
import tensorflow_gnn as tfgnn

from keras_ip._checks import check_int
from keras_ip.layers.base import GraphOps, encode_states, make_encoder

CRITIC_KINDS = ("value", "discrete_q", "continuous_q")


@tf.keras.utils.register_keras_serializable(package="keras_ip")
class NeighbourhoodCritic(tf.keras.layers.Layer):
    """V_i(s), or Q_i(s, a_i, a_Ni) for discrete or continuous actions, per agent.

      h_i^0 = MLP(s_i);  h_i^m = relu(W_self^m h_i^{m-1} + W_nb^m sum_{j in N(i)} h_j^{m-1})
      c_i   = sum_{j in N(i)} relu(W_act [h_j, a_j] + b)                  (Q only)
      value:        V_i = w^T relu(W_out h_i + b)
      discrete_q:   [Q_i(s, a, a_Ni)]_a = W_q relu(W_out [h_i, c_i] + b)   (A values)
      continuous_q: Q_i = w^T relu(W_out [h_i, c_i, a_i] + b)

    Init args:
      kind: "value", "discrete_q" or "continuous_q".
      units: hidden width.
      hops: rounds of state messages (>= 0).
      num_actions: A, for kind="discrete_q".
      encoder_layers: depth of the state MLP.
      num_groups: agent groups with their own first encoder layer (node feature "group").
    Call args:
      graph: `tfgnn.GraphTensor`, node feature "hidden_state" [nodes, obs_dim].
      actions: float32 [nodes, A] one-hot (discrete_q) or [nodes, k] in [-1, 1]
        (continuous_q); every agent's action, read by its neighbours (and, for
        continuous_q, by itself). None for kind="value".
    Call returns:
      value, continuous_q: float32 [nodes]; discrete_q: float32 [nodes, A].
    """

    def __init__(self, kind: str = "value", units: int = 128, hops: int = 1, num_actions: int | None = None,
                 encoder_layers: int = 1, num_groups: int = 1, **kwargs):
        super().__init__(**kwargs)
        if kind not in CRITIC_KINDS:
            raise ValueError(f"kind must be one of {CRITIC_KINDS}. Received: kind={kind!r}")
        if (kind == "discrete_q") != (num_actions is not None):
            raise ValueError(f'num_actions is required for kind="discrete_q" and only for it. '
                             f"Received: kind={kind!r}, num_actions={num_actions!r}")
        self.kind = kind
        self.units = check_int("units", units)
        self.hops = check_int("hops", hops, minimum=0)
        self.num_actions = None if num_actions is None else check_int("num_actions", num_actions, 2)
        self.encoder_layers = check_int("encoder_layers", encoder_layers)
        self.num_groups = check_int("num_groups", num_groups)
        self.encoder = make_encoder(units, encoder_layers, num_groups,
                                    lambda width, activation, name: tf.keras.layers.Dense(width, activation, name=name))
        self.w_self = [tf.keras.layers.Dense(units, name=f"self_{m}") for m in range(hops)]
        self.w_neighbours = [tf.keras.layers.Dense(units, use_bias=False, name=f"neighbours_{m}") for m in range(hops)]
        self.w_action_message = None if kind == "value" else tf.keras.layers.Dense(units, "relu", name="action_message")
        self.w_out = tf.keras.layers.Dense(units, "relu", name="hidden_out")
        self.out = tf.keras.layers.Dense(num_actions or 1, name="out")

    def call(self, graph: tfgnn.GraphTensor, actions=None):
        if (actions is None) != (self.kind == "value"):
            raise ValueError(f"A {self.kind} critic takes actions={'None' if self.kind == 'value' else 'a tensor'}.")
        ops = GraphOps(graph)
        h = encode_states(graph, self.encoder)                                   # [nodes, units]
        for w_self, w_neighbours in zip(self.w_self, self.w_neighbours):
            h = tf.nn.relu(w_self(h) + w_neighbours(ops.sum_of_neighbours(h)))
        if self.kind == "value":
            return tf.squeeze(self.out(self.w_out(h)), axis=-1)
        actions = tf.cast(actions, h.dtype)
        context = ops.sum_of_neighbours(self.w_action_message(tf.concat([h, actions], -1)))  # [nodes, units]
        inputs = [h, context] + ([actions] if self.kind == "continuous_q" else [])
        q = self.out(self.w_out(tf.concat(inputs, axis=-1)))
        return q if self.kind == "discrete_q" else tf.squeeze(q, axis=-1)

    def get_config(self):
        return dict(super().get_config(), kind=self.kind, units=self.units, hops=self.hops,
                    num_actions=self.num_actions, encoder_layers=self.encoder_layers, num_groups=self.num_groups)
