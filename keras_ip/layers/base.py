"""Graph plumbing shared by the propagation layers, apart from their maths.

`PropagationBase` unpacks a GraphTensor (schema in `keras_ip.graphs.tensor`) into plain
tensors and hands them, with bound broadcast/pool callables, to one abstract method
`propagate`. It also owns the parts every variant shares (paper section 4.1, figure 6):

  h_i^0  = MLP(s_i)                                   state embedding      [nodes, units]
  mu_i^0 = softmax(W_mu h_i^0)                        independent intention [nodes, intention_dim]
  h_i^m  = relu(W_self^m h_i^{m-1} + W_nb^m agg_{j in N(i)} h_j^{m-1})   state messages

`agg` is the paper's sum, the mean over the in-neighbours (`aggregation="mean"`, the
default) or, in the mean-field layer, a weighted sum with learned attention weights
(`aggregation="attention"`, see `NeighbourAttention`). The mean keeps every message at the
scale of one neighbour's: with the sum, the neighbour weights see inputs k times larger, so
Adam's steps move the output k times as far and learning is slower (measured in
`docs/index.md`). But the mean is not the same function family as the sum: it forgets how
many neighbours there were. Where degrees differ (the grid's corners, borders and centre; road
networks) and observations are alike, every agent gets the same context, and no network can
represent a quantity that sums over an agent's edges (the coordination game's reward). Only
on a graph where every agent has k neighbours is the mean the sum / k. `degree_input=True`
gives the encoder the degree back: its input is [s_i, log(1 + |N(i)|)] (`state_inputs`).
"""

from __future__ import annotations

import tensorflow as tf
import tensorflow_gnn as tfgnn

from keras_ip._checks import check_bool, check_int
from keras_ip.graphs.tensor import AGENTS, GROUP, HIDDEN_STATE, IN_NEIGHBOURS, NEIGHBOURS, OUT_NEIGHBOURS, REVERSE


UNWEIGHTED_AGGREGATIONS = ("sum", "mean")  # need no learned weights: every layer and critic supports them
AGGREGATIONS = UNWEIGHTED_AGGREGATIONS + ("attention",)


def check_aggregation(aggregation, allowed=AGGREGATIONS) -> str:
    """Returns `aggregation` if it is one of `allowed`, else raises ValueError naming it."""
    if aggregation not in allowed:
        raise ValueError(f"aggregation must be one of {allowed}. Received: aggregation={aggregation!r}")
    return aggregation


def fresh_initializer(initializer):
    """A new instance of the same initializer (same config)."""
    return tf.keras.initializers.get(tf.keras.initializers.serialize(initializer))


def per_slice(initializer):
    """Initialises a stacked [S, in, out] kernel (S groups or copies) as S independent [in, out]
    draws. Given the 3-D shape, Keras' fan-based initialisers would count S into fan-in and
    fan-out (glorot: variance 2 / (S in + S out) instead of 2 / (in + out))."""
    initializer = tf.keras.initializers.get(initializer)

    def initialize(shape, dtype=None):
        return tf.stack([fresh_initializer(initializer)(shape[1:], dtype) for _ in range(shape[0])])

    return initialize


@tf.keras.utils.register_keras_serializable(package="keras_ip")
class GroupedDense(tf.keras.layers.Layer):
    """A Dense layer per agent group: row i is transformed by the kernel of group_ids[i].

    How heterogeneous agents (paper appendix E.2: "different nonlinear functions to
    extract the features from heterogeneous observations") share one graph network: only
    the first layer is per group, everything after it is shared. Cost: num_groups matmuls.

    Init args:
      units: output width. num_groups: G. activation: as for Dense.
    Call args:
      inputs: float32 [nodes, d]. group_ids: int32 [nodes] in [0, G).
    Call returns:
      float32 [nodes, units].
    """

    def __init__(self, units: int, num_groups: int, activation=None, **kwargs):
        super().__init__(**kwargs)
        self.units = check_int("units", units)
        self.num_groups = check_int("num_groups", num_groups)
        self.activation = tf.keras.activations.get(activation)

    def build(self, input_shape):
        d = int(input_shape[-1])
        self.kernel = self.add_weight("kernel", [self.num_groups, d, self.units],
                                      initializer=per_slice("glorot_uniform"))  # each group's [d, units] a glorot draw
        self.bias = self.add_weight("bias", [self.num_groups, self.units], initializer="zeros")

    def call(self, inputs, group_ids):
        every_group = tf.einsum("nd,gdu->gnu", inputs, self.kernel) + self.bias[:, None, :]  # [G, nodes, units]
        own = tf.one_hot(group_ids, self.num_groups, dtype=inputs.dtype)                     # [nodes, G]
        return self.activation(tf.einsum("ng,gnu->nu", own, every_group))

    def get_config(self):
        return dict(super().get_config(), units=self.units, num_groups=self.num_groups,
                    activation=tf.keras.activations.serialize(self.activation))


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


def gather_sum(values: tf.Tensor, lists: tf.Tensor) -> tf.Tensor:
    """[nodes, ...] values, lists int32 [nodes, K] padded with -1 -> [nodes, ...]:
    row i is sum_k values[lists[i, k]] over the entries that are not -1.

    One gather whose product with the padding mask and sum over K XLA fuses into a single
    loop: no [edges, ...] tensor is written to memory.
    """
    mask = tf.cast(lists >= 0, values.dtype)                                  # [nodes, K]
    mask = tf.reshape(mask, tf.concat([tf.shape(mask), tf.ones([values.shape.rank - 1], tf.int32)], 0))
    return tf.reduce_sum(tf.gather(values, tf.maximum(lists, 0)) * mask, axis=1)


def sum_of_in_neighbours(values: tf.Tensor, in_lists: tf.Tensor, out_lists: tf.Tensor) -> tf.Tensor:
    """[nodes, ...] -> [nodes, ...]: x_i = sum_{j -> i} values_j, from padded neighbour lists.

    The gradient is the transposed sum, dvalues_j = sum_{j -> i} dx_i, which is again a
    gather, now over the out-neighbour lists; autodiff of the gather would scatter-add
    [nodes, K, ...] rows instead, several times slower on a CPU.

    Args:
      values: float [nodes, ...].
      in_lists, out_lists: int32 [nodes, max degree] padded with -1 ("in_neighbours" and
        "out_neighbours" of `keras_ip.graphs.tensor`).
    """
    @tf.custom_gradient
    def forward(values):
        return gather_sum(values, in_lists), lambda upstream: gather_sum(upstream, out_lists)

    return forward(values)


class GraphOps:
    """Plain-tensor views of one edge set, bound to a GraphTensor.

    Init args:
      graph: the `tfgnn.GraphTensor`.
      aggregation: how `aggregate_*` combine the incoming values of a node: "sum", "mean"
        (over its in-neighbours; 0 for a node without any) or "attention" (the sum weighted
        by `edge_weights`).
      edge_weights: float32 [edges], for aggregation="attention" (see `weighted`).

    When the GraphTensor carries padded neighbour lists (node features "in_neighbours" and
    "out_neighbours", built by `GraphBatcher` for a static graph), `aggregate_neighbours`
    and `in_degree` read them (`sum_of_in_neighbours`); otherwise they go through the edge
    list (a gather to [edges, ...] and a segment sum). Both give the same values.

    Attributes:
      reverse: int32 [edges], index of each edge's reverse edge (-1 where there is none),
        or None if the GraphTensor lacks the "reverse" feature.
    """

    def __init__(self, graph: tfgnn.GraphTensor, aggregation: str = "sum", edge_weights=None):
        self._graph = graph
        self.aggregation = check_aggregation(aggregation)
        self.edge_weights = edge_weights
        self.reverse = graph.edge_sets[NEIGHBOURS].features.get(REVERSE)  # [edges] or None
        features = graph.node_sets[AGENTS].features
        self._lists = (features[IN_NEIGHBOURS], features[OUT_NEIGHBOURS]) if IN_NEIGHBOURS in features else None
        self._in_degree = None

    def weighted(self, edge_weights: tf.Tensor) -> "GraphOps":
        """The same views aggregating with attention: agg_i = sum_j edge_weights[j -> i] x_j."""
        return GraphOps(self._graph, "attention", edge_weights)

    def from_receivers(self, node_values: tf.Tensor) -> tf.Tensor:
        """[nodes, d] -> [edges, d]: each edge carries its receiver's value."""
        return tfgnn.broadcast_node_to_edges(self._graph, NEIGHBOURS, tfgnn.TARGET, feature_value=node_values)

    def softmax_at_receivers(self, edge_scores: tf.Tensor) -> tf.Tensor:
        """[edges] -> [edges]: softmax of the scores over each node's incoming edges."""
        return tfgnn.softmax_edges_per_node(self._graph, NEIGHBOURS, tfgnn.TARGET, feature_value=edge_scores)

    def from_senders(self, node_values: tf.Tensor) -> tf.Tensor:
        """[nodes, d] -> [edges, d]: each edge carries its sender's value."""
        return tfgnn.broadcast_node_to_edges(self._graph, NEIGHBOURS, tfgnn.SOURCE, feature_value=node_values)

    def sum_at_receivers(self, edge_values: tf.Tensor) -> tf.Tensor:
        """[edges, d] -> [nodes, d]: each node sums the values of its incoming edges."""
        return tfgnn.pool_edges_to_node(self._graph, NEIGHBOURS, tfgnn.TARGET, "sum", feature_value=edge_values)

    def max_at_receivers(self, edge_values: tf.Tensor) -> tf.Tensor:
        """[edges, d] -> [nodes, d]: each node's maximum over its incoming edges (the lowest
        float for a node without any)."""
        return tfgnn.pool_edges_to_node(self._graph, NEIGHBOURS, tfgnn.TARGET, "max", feature_value=edge_values)

    def in_degree(self) -> tf.Tensor:
        """float32 [nodes]: the number of incoming edges of each node (computed once)."""
        if self._in_degree is None and self._lists is not None:
            self._in_degree = tf.reduce_sum(tf.cast(self._lists[0] >= 0, tf.float32), axis=1)
        elif self._in_degree is None:
            ones = tf.ones_like(self._graph.edge_sets[NEIGHBOURS].adjacency[tfgnn.TARGET], tf.float32)  # [edges]
            self._in_degree = self.sum_at_receivers(ones[:, None])[:, 0]
        return self._in_degree

    def log_degree(self) -> tf.Tensor:
        """float32 [nodes, 1]: log(1 + in-degree), the degree input of `state_inputs`."""
        return tf.math.log1p(self.in_degree())[:, None]

    def normalise(self, sums: tf.Tensor, counts: tf.Tensor) -> tf.Tensor:
        """Sums [rows, ...] of `counts` [rows] values each -> their aggregate: the sums
        themselves, or with aggregation="mean" sums / max(counts, 1)."""
        if self.aggregation != "mean":
            return sums
        divisor = tf.reshape(tf.maximum(counts, 1.0), [-1] + [1] * (sums.shape.rank - 1))  # [rows, 1, ...]
        return sums / divisor

    def aggregate_at_receivers(self, edge_values: tf.Tensor) -> tf.Tensor:
        """[edges, ...] -> [nodes, ...]: each node's sum, mean or attention-weighted sum of its
        incoming edges' values."""
        if self.aggregation == "attention":
            if self.edge_weights is None:
                raise ValueError('aggregation="attention" needs edge weights: use GraphOps.weighted(edge_weights).')
            weights = tf.reshape(self.edge_weights, [-1] + [1] * (edge_values.shape.rank - 1))  # [edges, 1, ...]
            return self.sum_at_receivers(edge_values * weights)
        return self.normalise(self.sum_at_receivers(edge_values), self.in_degree())

    def aggregate_neighbours(self, node_values: tf.Tensor) -> tf.Tensor:
        """[nodes, ...] -> [nodes, ...]: sum, mean or weighted sum over j in N(i) of node_values[j]."""
        if self._lists is not None and self.aggregation != "attention":
            return self.normalise(sum_of_in_neighbours(node_values, *self._lists), self.in_degree())
        return self.aggregate_at_receivers(self.from_senders(node_values))


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


class PropagationBase(tf.keras.layers.Layer):
    """Base of the intention-propagation layers: encoder, mu^0 and state messages.

    Subclasses implement `propagate(h, mu0, ops)` and return the final per-agent
    embedding [nodes, units].

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
        self.intention = self._dense(self.intention_dim, "softmax", "intention_0")
        message_hops = range(1, self.hops) if self.passes_state_messages else ()
        self.state_self = [self._dense(self.units, None, f"state_self_{m}") for m in message_hops]
        self.state_neighbours = [self._dense(self.units, None, f"state_neighbours_{m}", use_bias=False)
                                 for m in message_hops]

    passes_state_messages = True  # False for variants without communication
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
        mu0 = self.intention(h0)                                         # [nodes, intention_dim]
        return self.propagate(h0, mu0, ops)

    def propagate(self, h0: tf.Tensor, mu0: tf.Tensor, ops: GraphOps) -> tf.Tensor:
        """Runs the variant's M hops. Returns [nodes, units]."""
        raise NotImplementedError

    def get_config(self):
        return dict(super().get_config(), units=self.units, hops=self.hops, intention_dim=self.intention_dim,
                    encoder_layers=self.encoder_layers, num_groups=self.num_groups, aggregation=self.aggregation,
                    degree_input=self.degree_input,
                    kernel_initializer=tf.keras.initializers.serialize(self.kernel_initializer),
                    bias_initializer=tf.keras.initializers.serialize(self.bias_initializer))
