"""GraphOps: neighbour sums through padded neighbour lists against the edge list and hand-worked gradients."""

import numpy as np
import pytest
import tensorflow as tf

from keras_ip.graphs import Graph, GraphBatcher, knn
from keras_ip.graphs.tensor import assemble_graph_tensor
from keras_ip.layers import GraphOps
from keras_ip.layers.graph_ops import sum_of_in_neighbours

# edges 0 -> 1, 2 -> 1, 1 -> 0 over 4 nodes (node 2 receives nothing, node 3 is isolated)
IN_LISTS = tf.constant([[1, -1], [0, 2], [-1, -1], [-1, -1]])
OUT_LISTS = tf.constant([[1], [0], [1], [-1]])


def test_sum_of_in_neighbours_values_and_gradient_by_hand():
    x = tf.constant([1.0, 10.0, 100.0, 1000.0])[:, None]
    weights = tf.constant([1.0, 2.0, 3.0, 4.0])[:, None]
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = sum_of_in_neighbours(x, IN_LISTS, OUT_LISTS)
        loss = tf.reduce_sum(weights * y)
    np.testing.assert_allclose(y[:, 0], [10.0, 101.0, 0.0, 0.0])
    # d loss / d x_j = sum of the weights of j's receivers: x0 -> y1 (2), x1 -> y0 (1), x2 -> y1 (2), x3 -> none
    np.testing.assert_allclose(tape.gradient(loss, x)[:, 0], [2.0, 1.0, 2.0, 0.0])


def _edge_list_only(graph_tensor):
    """The same GraphTensor without the padded lists, so GraphOps takes the edge-list path."""
    adjacency = graph_tensor.edge_sets["neighbours"].adjacency
    return assemble_graph_tensor({"hidden_state": graph_tensor.node_sets["agents"]["hidden_state"]},
                                 adjacency.source, adjacency.target, graph_tensor.edge_sets["neighbours"]["reverse"],
                                 graph_tensor.num_components, graph_tensor.node_sets["agents"].sizes[0],
                                 graph_tensor.edge_sets["neighbours"].sizes[0])


@pytest.mark.parametrize("aggregation", ["sum", "mean"])
@pytest.mark.parametrize("graph", [knn(np.random.default_rng(0).uniform(size=(12, 2)), 3, symmetric=False),
                                   Graph(4, np.array([1, 0, 2], np.int32), np.array([0, 1, 1], np.int32))],
                         ids=["directed_knn", "isolated_nodes"])
def test_padded_lists_give_the_edge_list_values_and_gradients(aggregation, graph):
    values = tf.constant(np.random.default_rng(1).normal(size=(3 * graph.num_nodes, 2, 5)), tf.float32)
    upstream = tf.constant(np.random.default_rng(2).normal(size=values.shape), tf.float32)
    batched = GraphBatcher(graph)(tf.zeros([3, graph.num_nodes, 1]))
    results = []
    for graph_tensor in (batched, _edge_list_only(batched)):
        ops = GraphOps(graph_tensor, aggregation)
        with tf.GradientTape() as tape:
            tape.watch(values)
            aggregated = ops.aggregate_neighbours(values)                # [nodes, 2, 5]
            loss = tf.reduce_sum(upstream * aggregated)
        results.append((aggregated, tf.convert_to_tensor(tape.gradient(loss, values)), ops.in_degree()))
    for fast, reference in zip(*results):
        np.testing.assert_allclose(fast, reference, rtol=1e-6, atol=1e-6)


def test_padded_lists_compile_with_xla():
    graph = knn(np.random.default_rng(0).uniform(size=(10, 2)), 3)
    batched = GraphBatcher(graph)(tf.zeros([2, 10, 1]))
    values = tf.constant(np.random.default_rng(1).normal(size=(20, 4)), tf.float32)

    def gradient(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(tf.square(GraphOps(batched, "mean").aggregate_neighbours(x)))
        return tape.gradient(loss, x)

    np.testing.assert_allclose(tf.function(gradient, jit_compile=True)(values), gradient(values), rtol=1e-5, atol=1e-6)


def test_max_at_receivers_by_hand():
    """Edges 1 -> 0, 0 -> 1, 2 -> 1 over 4 nodes: node 0 sees 1, node 1 sees 0 and 2, nodes 2 and 3 nothing."""
    from keras_ip.graphs import graph_tensor
    graph = graph_tensor(np.zeros((4, 1), np.float32), Graph(4, np.array([1, 0, 2], np.int32),
                                                              np.array([0, 1, 1], np.int32)))
    edge_values = tf.constant([[5.0], [-2.0], [3.0]])  # on edges 1 -> 0, 0 -> 1, 2 -> 1
    maxima = GraphOps(graph).max_at_receivers(edge_values)[:, 0].numpy()
    np.testing.assert_allclose(maxima[:2], [5.0, 3.0])
    assert np.all(maxima[2:] <= np.finfo(np.float32).min)  # no incoming edge: the lowest float
