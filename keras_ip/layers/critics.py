"""Per-agent critics that see the neighbourhood through message passing (paper section 4.2).

Q_i(s, a_i, a_Ni) and V_i(s) are graph networks over the same agent graph as the policy,
so the cost is O(agents * degree), never O(agents^2).

Structure: `hops` rounds of state messages give h_i (agent i's view of the states around
it); one round of action messages gives c_i = sum_{j in N(i)} relu(W [h_j, a_j]), the
neighbours' actions in context. Agent i's own action enters only at the output, so for
discrete actions one pass yields Q_i(s, a, a_Ni) for every own action a, which lets the
learner take the exact expectation over a_i ~ q_i.

Speed: a critic splits into a state part that does not read actions (`state_features`)
and an action part (`q_values`), so the learner evaluates the state part once for the
replayed and the freshly sampled actions. `copies` independent critics (the twin Q) run
as one batched computation: every kernel is stacked [copies, in, out] and applied with
one einsum, and every tensor is laid out [nodes, copies, units].
"""

from __future__ import annotations

from typing import NamedTuple

import tensorflow as tf
import tensorflow_gnn as tfgnn

from keras_ip._checks import check_bool, check_int
from keras_ip._names import UNWEIGHTED_AGGREGATIONS
from keras_ip.graphs.tensor import AGENTS, GROUP
from keras_ip.layers.base import state_inputs
from keras_ip.layers.dense import GroupedDense, StackedDense
from keras_ip.layers.graph_ops import GraphOps, check_aggregation

CRITIC_KINDS = ("value", "discrete_q", "continuous_q")


class CriticState(NamedTuple):
    """The action-independent part of a critic's forward pass (see `NeighbourhoodCritic.state_features`)."""

    h: tf.Tensor                 # [nodes, copies, units], h_i after the state hops
    message_from_state: tf.Tensor  # [nodes, copies, units], W_act[h] h (action-message pre-activation, state half)
    out_from_state: tf.Tensor    # [nodes, copies, units], W_out[h] h + b (hidden-out pre-activation, state half)
    ops: GraphOps

    def frozen(self) -> "CriticState":
        """The same values without gradient (for `q_values(..., frozen=True)`)."""
        return self._replace(**{name: tf.stop_gradient(getattr(self, name)) for name in
                                ("h", "message_from_state", "out_from_state") if getattr(self, name) is not None})


@tf.keras.utils.register_keras_serializable(package="keras_ip")
class NeighbourhoodCritic(tf.keras.layers.Layer):
    """V_i(s), or Q_i(s, a_i, a_Ni) for discrete or continuous actions, per agent; `copies` of them.

      h_i^0 = MLP(s_i);  h_i^m = relu(W_self^m h_i^{m-1} + W_nb^m agg_{j in N(i)} h_j^{m-1})
      c_i   = agg_{j in N(i)} relu(W_act [h_j, a_j] + b)                  (Q only)

    agg is the mean over the in-neighbours (default) or their sum, as in the propagation
    layers. With k = 8 neighbours the mean made cooperative navigation's critics learn far
    faster: N=30, 15k steps, sampled team return -297 against -435 with the sum. The mean
    forgets the degree, so with degree_input the state MLP reads [s_i, log(1 + |N(i)|)]: a
    reward that sums over an agent's edges scales with its degree (`keras_ip.layers.base`).
      value:        V_i = w^T relu(W_out h_i + b)
      discrete_q:   [Q_i(s, a, a_Ni)]_a = W_q relu(W_out [h_i, c_i] + b)   (A values)
      continuous_q: Q_i = w^T relu(W_out [h_i, c_i, a_i] + b)

    Example:
      >>> twin = NeighbourhoodCritic("discrete_q", units=16, num_actions=5, copies=2)
      >>> graph = keras_ip.graphs.graph_tensor(tf.zeros([9, 3]), keras_ip.graphs.grid(3, 3))
      >>> twin(graph, tf.one_hot(tf.zeros(9, tf.int32), 5)).shape
      TensorShape([9, 2, 5])

    Init args:
      kind: "value", "discrete_q" or "continuous_q".
      units: hidden width.
      hops: rounds of state messages (>= 0).
      num_actions: A, for kind="discrete_q".
      encoder_layers: depth of the state MLP.
      num_groups: agent groups with their own first encoder layer (node feature "group").
      copies: independent critics computed together (2 for the twin Q).
      aggregation: "mean" (default) or "sum", how agg combines the neighbours' messages.
      degree_input: append log(1 + in-degree) to each agent's state before the MLP (default;
        False reads the state alone).
    Call args:
      graph: `tfgnn.GraphTensor`, node feature "hidden_state" [nodes, obs_dim].
      actions: float32 [nodes, A] one-hot (discrete_q) or [nodes, k] in [-1, 1]
        (continuous_q); every agent's action, read by its neighbours (and, for
        continuous_q, by itself). None for kind="value".
    Call returns:
      copies=1: value, continuous_q float32 [nodes]; discrete_q [nodes, A].
      copies>1: the same with a copies axis after nodes: [nodes, copies] or [nodes, copies, A].
    """

    def __init__(self, kind: str = "value", units: int = 128, hops: int = 1, num_actions: int | None = None,
                 encoder_layers: int = 1, num_groups: int = 1, copies: int = 1, aggregation: str = "mean",
                 degree_input: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.aggregation = check_aggregation(aggregation, UNWEIGHTED_AGGREGATIONS)
        self.degree_input = check_bool("degree_input", degree_input)
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
        self.copies = check_int("copies", copies)

        def dense(width, activation, name, use_bias=True):
            return StackedDense(width, copies, activation, use_bias, name=name)

        # With agent groups the first layer is per group, one GroupedDense per copy.
        self.grouped_encoder = ([GroupedDense(units, num_groups, "relu", name=f"encoder_0_copy_{c}")
                                 for c in range(copies)] if num_groups > 1 else [])
        self.encoder = ([] if num_groups > 1 else [dense(units, "relu", "encoder_0")]) + \
            [dense(units, "relu", f"encoder_{k}") for k in range(1, encoder_layers)]
        self.w_self = [dense(units, None, f"self_{m}") for m in range(hops)]
        self.w_neighbours = [dense(units, None, f"neighbours_{m}", use_bias=False) for m in range(hops)]
        self.w_action_message = None if kind == "value" else dense(units, "relu", "action_message")
        self.w_out = dense(units, "relu", "hidden_out")
        self.out = dense(num_actions or 1, None, "out")

    def _build_split_layers(self, action_width: int | None):
        """Builds the layers whose input is [h, context, actions] once the action width is known."""
        if self.w_out.built:
            return
        if self.kind != "value":
            self.w_action_message.build([None, self.copies, self.units + action_width])
        extra = {"value": 0, "discrete_q": self.units, "continuous_q": self.units + (action_width or 0)}[self.kind]
        self.w_out.build([None, self.copies, self.units + extra])

    def state_features(self, graph: tfgnn.GraphTensor) -> CriticState:
        """The part of the forward pass that does not read actions; `q_values` finishes it."""
        if not self.w_out.built:
            raise ValueError(f"{self.name} has no weights yet; call it on a graph (and actions) first.")
        ops = GraphOps(graph, self.aggregation)
        h = state_inputs(graph, self.degree_input, ops)                            # [nodes, obs_dim (+ 1)]
        if self.grouped_encoder:
            groups = graph.node_sets[AGENTS][GROUP]
            h = tf.stack([layer(h, groups) for layer in self.grouped_encoder], axis=1)  # [nodes, copies, units]
        for layer in self.encoder:
            h = layer(h)                                                           # [nodes, copies, units]
        for w_self, w_neighbours in zip(self.w_self, self.w_neighbours):
            h = tf.nn.relu(w_self(h) + w_neighbours(ops.aggregate_neighbours(h)))
        message = None if self.kind == "value" else self.w_action_message.linear(h) + self.w_action_message.bias
        return CriticState(h, message, self.w_out.linear(h) + self.w_out.bias, ops)

    def q_values(self, state: CriticState, actions=None, frozen: bool = False):
        """Finishes the forward pass from `state_features` for `actions` (None for a value critic).

        frozen=True reads the weights without gradient; with `state.frozen()` the result is
        differentiable in the actions only (what the policy loss needs). Returns shapes as
        `call` does.
        """
        if self.kind == "value":
            out = self.out(tf.nn.relu(state.out_from_state), frozen=frozen)          # [nodes, copies, 1]
            return self._squeezed(out[..., 0])
        actions = tf.cast(actions, state.h.dtype)                                   # [nodes, features]
        message = tf.nn.relu(state.message_from_state
                             + self.w_action_message.linear(actions, self.units, frozen))  # [nodes, copies, units]
        context = state.ops.aggregate_neighbours(message)                             # [nodes, copies, units]
        hidden = state.out_from_state + self.w_out.linear(context, self.units, frozen)
        if self.kind == "continuous_q":
            hidden += self.w_out.linear(actions, 2 * self.units, frozen)
        q = self.out(tf.nn.relu(hidden), frozen=frozen)                              # [nodes, copies, A or 1]
        return self._squeezed(q if self.kind == "discrete_q" else q[..., 0])

    def _squeezed(self, values):
        """Drops the copies axis (axis 1) of a single critic."""
        return values[:, 0] if self.copies == 1 else values

    def call(self, graph: tfgnn.GraphTensor, actions=None):
        if (actions is None) != (self.kind == "value"):
            raise ValueError(f"A {self.kind} critic takes actions={'None' if self.kind == 'value' else 'a tensor'}.")
        self._build_split_layers(None if actions is None else int(actions.shape[-1]))
        return self.q_values(self.state_features(graph), actions)

    def get_config(self):
        return dict(super().get_config(), kind=self.kind, units=self.units, hops=self.hops,
                    num_actions=self.num_actions, encoder_layers=self.encoder_layers, num_groups=self.num_groups,
                    copies=self.copies, aggregation=self.aggregation, degree_input=self.degree_input)
