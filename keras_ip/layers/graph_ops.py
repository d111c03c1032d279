"""Neighbour operations on an agent GraphTensor, as plain tensors (schema in `keras_ip.graphs.tensor`).

`GraphOps` binds one GraphTensor and offers broadcasts from senders or receivers, pools and
softmaxes at receivers, in-degrees and the sum, mean or attention-weighted sum over each
agent's in-neighbours. With the padded neighbour lists a static graph carries, that
aggregation is `sum_of_in_neighbours`: a gather (`gather_sum`) whose gradient is again a
gather, over the out-neighbour lists.
"""

from __future__ import annotations

import tensorflow as tf
import tensorflow_gnn as tfgnn

from keras_ip._names import AGGREGATIONS
from keras_ip.graphs.tensor import AGENTS, IN_NEIGHBOURS, NEIGHBOURS, OUT_NEIGHBOURS, REVERSE


def check_aggregation(aggregation, allowed=AGGREGATIONS) -> str:
    """Returns `aggregation` if it is one of `allowed`, else raises ValueError naming it."""
    if aggregation not in allowed:
        raise ValueError(f"aggregation must be one of {allowed}. Received: aggregation={aggregation!r}")
    return aggregation


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
