"""Graph plumbing shared by the propagation layers, apart from their maths.

`PropagationBase` unpacks a GraphTensor (schema in `keras_ip.graphs.tensor`) into plain
tensors and hands them, with bound broadcast/pool callables, to one abstract method
`propagate`. It also owns the parts every variant shares (paper section 4.1, figure 6):

  h_i^0  = MLP(s_i)                                   state embedding      [nodes, units]
  mu_i^0 = softmax(W_mu h_i^0)                        independent intention [nodes, intention_dim]
  h_i^m  = relu(W_self^m h_i^{m-1} + W_nb^m agg_{j in N(i)} h_j^{m-1})   state messages

`agg` is the paper's sum, the mean over the in-neighbours (`aggregation="mean"`, the default)
or, in the mean-field layer, a weighted sum with learned attention weights
(`aggregation="attention"`, see `NeighbourAttention` in `mean_field.py`). The mean keeps every
message at the scale of one neighbour's: with the sum, the neighbour weights see inputs k times
larger, so Adam's steps move the output k times as far and learning is slower (measured in
`docs/index.md`). But the mean is not the same function family as the sum: it forgets how many
neighbours there were. Where degrees differ (the grid's corners, borders and centre; road
networks) and observations are alike, every agent gets the same context, and no network can
represent a quantity that sums over an agent's edges (the coordination game's reward). Only on
a graph where every agent has k neighbours is the mean the sum / k. `degree_input=True` gives
the encoder the degree back: its input is [s_i, log(1 + |N(i)|)] (`state_inputs`).
"""

from __future__ import annotations

import abc

import tensorflow as tf
import tensorflow_gnn as tfgnn

from keras_ip._checks import check_bool, check_int
from keras_ip._names import UNWEIGHTED_AGGREGATIONS
from keras_ip.graphs.tensor import AGENTS, GROUP, HIDDEN_STATE
from keras_ip.layers.dense import GroupedDense, fresh_initializer
from keras_ip.layers.graph_ops import GraphOps, check_aggregation


def state_inputs(graph: tfgnn.GraphTensor, degree_input: bool, ops: "GraphOps | None" = None) -> tf.Tensor:
    """What an encoder reads: s_i, float32 [nodes, obs_dim], or with `degree_input`
    [s_i, log(1 + |N(i)|)], [nodes, obs_dim + 1]. `ops`: the graph's `GraphOps`, to reuse its
    in-degree (built here when None)."""
    states = graph.node_sets[AGENTS][HIDDEN_STATE]                            # [nodes, obs_dim]
    if not degree_input:
        return states
    return tf.concat([states, (ops or GraphOps(graph)).log_degree()], axis=-1)  # [nodes, obs_dim + 1]


def encode_states(graph: tfgnn.GraphTensor, encoder: list, degree_input: bool = False,
                  ops: "GraphOps | None" = None) -> tf.Tensor:
    """Runs an encoder MLP whose first layer may be a `GroupedDense` on `state_inputs(graph,
    degree_input, ops)`. Returns [nodes, units]."""
    agents = graph.node_sets[AGENTS]
    h = state_inputs(graph, degree_input, ops)
    for layer in encoder:
        h = layer(h, agents[GROUP]) if isinstance(layer, GroupedDense) else layer(h)
    return h


def make_encoder(units: int, depth: int, num_groups: int, dense) -> list:
    """[first layer (per group when num_groups > 1), then depth - 1 shared relu layers]."""
    first = GroupedDense(units, num_groups, "relu", name="encoder_0") if num_groups > 1 else dense(units, "relu",
                                                                                                   "encoder_0")
    return [first] + [dense(units, "relu", f"encoder_{k}") for k in range(1, depth)]


class PropagationBase(tf.keras.layers.Layer, metaclass=abc.ABCMeta):
    """Base of the intention-propagation layers: encoder, mu^0 and state messages.

    A subclass implements the abstract `propagate(h0, mu0, ops)`, which returns the final
    per-agent embedding [nodes, units]; it may override the class attributes
    `passes_state_messages`, `uses_intentions` and `aggregations`.

    Init args:
      units: width d of every embedding (paper: 128).
      hops: number of propagation iterations M (paper: 2).
      intention_dim: size of the independent intention mu^0 (for discrete actions the
        number of actions, so mu^0 is the independent policy's action probabilities).
      encoder_layers: depth of the state encoder MLP.
      num_groups: agent groups with their own first encoder layer (node feature "group").
      aggregation: "mean" (default), "sum" (the paper's) or, where the variant supports it,
        "attention": how each agent combines its in-neighbours' messages (see the module
        docstring).
      degree_input: encode [s_i, log(1 + |N(i)|)] instead of s_i (default), so that a mean
        (or attention) over neighbours does not hide how many there are (module docstring);
        False encodes s_i alone, as the paper does.
      kernel_initializer, bias_initializer: for every Dense sublayer.

    Call args:
      graph: `tfgnn.GraphTensor` with node feature "hidden_state" [nodes, obs_dim].

    Call returns:
      float32 [nodes, units], the embedding the policy head reads.
    """

    def __init__(self, units: int = 128, hops: int = 2, intention_dim: int = 2, encoder_layers: int = 1,
                 num_groups: int = 1, aggregation: str = "mean", degree_input: bool = True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        self.aggregation = check_aggregation(aggregation, self.aggregations)
        self.degree_input = check_bool("degree_input", degree_input)
        self.units = check_int("units", units)
        self.hops = check_int("hops", hops)
        self.intention_dim = check_int("intention_dim", intention_dim)
        self.encoder_layers = check_int("encoder_layers", encoder_layers)
        self.num_groups = check_int("num_groups", num_groups)
        self.kernel_initializer = tf.keras.initializers.get(kernel_initializer)
        self.bias_initializer = tf.keras.initializers.get(bias_initializer)
        self.encoder = make_encoder(self.units, self.encoder_layers, self.num_groups,
                                    lambda units, activation, name: self._dense(units, activation, name))
        self.intention = (self._dense(self.intention_dim, "softmax", "intention_0") if self.uses_intentions
                          else None)
        message_hops = range(1, self.hops) if self.passes_state_messages else ()
        self.state_self = [self._dense(self.units, None, f"state_self_{m}") for m in message_hops]
        self.state_neighbours = [self._dense(self.units, None, f"state_neighbours_{m}", use_bias=False)
                                 for m in message_hops]

    passes_state_messages = True  # False for variants without communication
    uses_intentions = True  # False for the variant without intentions (mu0 is then None)
    aggregations = UNWEIGHTED_AGGREGATIONS  # what the variant supports

    def _dense(self, units, activation, name, use_bias=True):
        # A fresh initializer per sublayer: one shared unseeded instance gives every
        # same-shaped kernel identical values.
        return tf.keras.layers.Dense(units, activation=activation, use_bias=use_bias, name=name,
                                     kernel_initializer=fresh_initializer(self.kernel_initializer),
                                     bias_initializer=fresh_initializer(self.bias_initializer))

    def state_messages(self, h: tf.Tensor, hop: int, ops: GraphOps) -> tf.Tensor:
        """h^{hop-1} -> h^{hop}, for hop in 1 .. hops - 1. [nodes, units] -> [nodes, units]."""
        return tf.nn.relu(self.state_self[hop - 1](h) + self.state_neighbours[hop - 1](ops.aggregate_neighbours(h)))

    def call(self, graph: tfgnn.GraphTensor) -> tf.Tensor:
        ops = GraphOps(graph, self.aggregation)
        h0 = encode_states(graph, self.encoder, self.degree_input, ops)  # [nodes, units]
        mu0 = None if self.intention is None else self.intention(h0)            # [nodes, intention_dim]
        return self.propagate(h0, mu0, ops)

    @abc.abstractmethod
    def propagate(self, h0: tf.Tensor, mu0: tf.Tensor, ops: GraphOps) -> tf.Tensor:
        """Runs the variant's M hops from h^0 [nodes, units] and mu^0 [nodes, intention_dim]
        (None when `uses_intentions` is False), aggregating over neighbours with `ops`.
        Returns [nodes, units]."""

    def get_config(self):
        return dict(super().get_config(), units=self.units, hops=self.hops, intention_dim=self.intention_dim,
                    encoder_layers=self.encoder_layers, num_groups=self.num_groups, aggregation=self.aggregation,
                    degree_input=self.degree_input,
                    kernel_initializer=tf.keras.initializers.serialize(self.kernel_initializer),
                    bias_initializer=tf.keras.initializers.serialize(self.bias_initializer))
