"""Tests of keras_ip.graphs.tensor: GraphTensors built from per-agent arrays and a topology."""

import numpy as np
import pytest
import tensorflow as tf

from keras_ip.graphs.tensor import IN_NEIGHBOURS, OUT_NEIGHBOURS, padded_neighbour_lists
from keras_ip.graphs import (AGENTS, HIDDEN_STATE, NEIGHBOURS, REVERSE, Graph, GraphBatcher, batch_graph_tensor,
                             from_edges, graph_tensor, grid, random, reverse_edge_index, reverse_edge_index_tf)


def pieces(graph_tensor_):
    """numpy dict of the fields the schema promises."""
    agents, neighbours = graph_tensor_.node_sets[AGENTS], graph_tensor_.edge_sets[NEIGHBOURS]
    return {"node_sizes": agents.sizes.numpy(), "edge_sizes": neighbours.sizes.numpy(),
            "senders": neighbours.adjacency.source.numpy(), "receivers": neighbours.adjacency.target.numpy(),
            "reverse": neighbours[REVERSE].numpy(), "features": {k: v.numpy() for k, v in agents.features.items()}}


def assert_reverse_is_consistent(senders, receivers, reverse):
    np.testing.assert_array_equal(senders[reverse], receivers)
    np.testing.assert_array_equal(receivers[reverse], senders)
    np.testing.assert_array_equal(reverse[reverse], np.arange(len(reverse)))


def test_graph_tensor_of_a_path():
    path = from_edges(3, [(0, 1), (1, 2)])
    observations = np.arange(6, dtype=np.float32).reshape(3, 2)
    got = pieces(graph_tensor(observations, path, actions=np.array([1, 0, 1])))
    np.testing.assert_array_equal(got["node_sizes"], [3])
    np.testing.assert_array_equal(got["edge_sizes"], [4])
    np.testing.assert_array_equal(got["senders"], path.senders)
    np.testing.assert_array_equal(got["receivers"], path.receivers)
    np.testing.assert_array_equal(got["reverse"], path.reverse)
    np.testing.assert_array_equal(got["features"][HIDDEN_STATE], observations)
    np.testing.assert_array_equal(got["features"]["actions"], [1, 0, 1])


def test_graph_tensor_wrong_number_of_agents():
    with pytest.raises(ValueError, match="observations has 4 rows but the graph has 3 agents"):
        graph_tensor(np.zeros([4, 2]), grid(1, 3))


def test_graph_batcher_blocks():
    graph, batch = grid(2, 2), 3
    n, e = graph.num_nodes, graph.num_edges
    observations = np.arange(batch * n * 2, dtype=np.float32).reshape(batch, n, 2)
    actions = np.arange(batch * n).reshape(batch, n) * 10
    got = pieces(GraphBatcher(graph)(observations, actions=actions))
    np.testing.assert_array_equal(got["node_sizes"], [n] * batch)
    np.testing.assert_array_equal(got["edge_sizes"], [e] * batch)
    for b in range(batch):
        block = slice(b * e, (b + 1) * e)
        np.testing.assert_array_equal(got["senders"][block], graph.senders + b * n)
        np.testing.assert_array_equal(got["receivers"][block], graph.receivers + b * n)
        np.testing.assert_array_equal(got["reverse"][block], graph.reverse + b * e)
        for i in range(n):
            np.testing.assert_array_equal(got["features"][HIDDEN_STATE][b * n + i], observations[b, i])
            assert got["features"]["actions"][b * n + i] == actions[b, i]
    assert_reverse_is_consistent(got["senders"], got["receivers"], got["reverse"])


def test_graph_batcher_caches_index_arrays_per_batch_size():
    batcher = GraphBatcher(grid(2, 2))
    three = batcher.flat_indices(3)
    assert batcher.flat_indices(3) is three
    assert all(a is b for a, b in zip(batcher.flat_indices(3), three))
    assert batcher.flat_indices(2) is not three
    assert [a.shape for a in batcher.flat_indices(2)] == [(16,)] * 3 + [(8, 2)] * 2  # 2 x 4 agents, 2 neighbours
    assert all(a.dtype == np.int32 for a in three)


def test_graph_batcher_wrong_number_of_agents():
    with pytest.raises(ValueError, match="observations has 5 agents but the graph has 4"):
        GraphBatcher(grid(2, 2))(np.zeros([3, 5, 2]))


# Row 0: path 0 - 1 - 2; row 1: path 0 - 2 - 1. Neither in canonical order.
ROW_SENDERS = [[0, 1, 1, 2], [0, 2, 1, 2]]
ROW_RECEIVERS = [[1, 0, 2, 1], [2, 1, 2, 0]]
ROW_REVERSE = [1, 0, 3, 2, 7, 6, 5, 4]


def test_batch_graph_tensor_per_row_graphs():
    observations = np.arange(2 * 3 * 2, dtype=np.float32).reshape(2, 3, 2)
    got = pieces(batch_graph_tensor(observations, ROW_SENDERS, ROW_RECEIVERS, actions=np.ones([2, 3, 1])))
    np.testing.assert_array_equal(got["node_sizes"], [3, 3])
    np.testing.assert_array_equal(got["edge_sizes"], [4, 4])
    np.testing.assert_array_equal(got["senders"], [0, 1, 1, 2, 3, 5, 4, 5])
    np.testing.assert_array_equal(got["receivers"], [1, 0, 2, 1, 5, 4, 5, 3])
    np.testing.assert_array_equal(got["reverse"], ROW_REVERSE)
    assert_reverse_is_consistent(got["senders"], got["receivers"], got["reverse"])
    np.testing.assert_array_equal(got["features"][HIDDEN_STATE], observations.reshape(6, 2))
    assert got["features"]["actions"].shape == (6, 1)


def test_batch_graph_tensor_in_tf_function_with_unknown_shapes():
    @tf.function(input_signature=[tf.TensorSpec([None, None, 2], tf.float32),
                                  tf.TensorSpec([None, None], tf.int32), tf.TensorSpec([None, None], tf.int32)])
    def build(observations, senders, receivers):
        neighbours = batch_graph_tensor(observations, senders, receivers).edge_sets[NEIGHBOURS]
        return neighbours.adjacency.source, neighbours[REVERSE]

    senders, reverse = build(tf.zeros([2, 3, 2]), tf.constant(ROW_SENDERS), tf.constant(ROW_RECEIVERS))
    np.testing.assert_array_equal(senders, [0, 1, 1, 2, 3, 5, 4, 5])
    np.testing.assert_array_equal(reverse, ROW_REVERSE)


def shuffled_random_graphs():
    """(senders, receivers, num_nodes) of symmetric graphs, edges in a random order."""
    rng = np.random.default_rng(0)
    for seed, (n, k) in enumerate([(2, 1), (6, 2), (15, 3), (40, 5)]):
        graph = random(n, k, seed=seed)
        order = rng.permutation(graph.num_edges)
        yield graph.senders[order], graph.receivers[order], n


@pytest.mark.parametrize("compile_", [None, "function", "jit"])
def test_reverse_edge_index_tf_matches_numpy(compile_):
    fn = {None: reverse_edge_index_tf, "function": tf.function(reverse_edge_index_tf),
          "jit": tf.function(reverse_edge_index_tf, jit_compile=True)}[compile_]
    for senders, receivers, n in shuffled_random_graphs():
        expected = reverse_edge_index(senders, receivers, n)
        got = fn(tf.constant(senders), tf.constant(receivers), tf.constant(n)).numpy()
        np.testing.assert_array_equal(got, expected)
        assert_reverse_is_consistent(senders, receivers, got)


ONE_WAY = (np.array([0, 1, 2], np.int32), np.array([1, 0, 1], np.int32), 3)  # 2 -> 1 has no 1 -> 2


@pytest.mark.parametrize("mode", ["eager", "function", "xla"])
def test_reverse_edge_index_tf_marks_missing_reverse_with_minus_one(mode):
    fn = {"eager": reverse_edge_index_tf, "function": tf.function(reverse_edge_index_tf),
          "xla": tf.function(reverse_edge_index_tf, jit_compile=True)}[mode]
    expected = reverse_edge_index(*ONE_WAY)
    np.testing.assert_array_equal(expected, [1, 0, -1])
    np.testing.assert_array_equal(fn(*ONE_WAY).numpy(), expected)


def test_batcher_keeps_missing_reverse_edges_at_minus_one():
    graph = Graph(3, [1, 0, 2], [0, 1, 1])
    reverse = GraphBatcher(graph).flat_indices(2)[2]
    np.testing.assert_array_equal(reverse, [1, 0, -1, 4, 3, -1])


def test_padded_neighbour_lists_of_a_directed_graph_with_an_isolated_node():
    # edges 0 -> 1, 2 -> 1, 1 -> 0 over 4 nodes; node 3 has no edges.
    in_lists, out_lists = padded_neighbour_lists([0, 2, 1], [1, 1, 0], 4)
    np.testing.assert_array_equal(in_lists, [[1, -1], [0, 2], [-1, -1], [-1, -1]])
    np.testing.assert_array_equal(out_lists, [[1], [0], [1], [-1]])
    assert in_lists.dtype == out_lists.dtype == np.int32
    empty_in, empty_out = padded_neighbour_lists([], [], 3)
    assert empty_in.shape == empty_out.shape == (3, 0)


def test_graph_batcher_offsets_the_neighbour_lists_and_keeps_padding():
    graph = Graph(3, np.array([1, 0, 2], np.int32), np.array([0, 1, 1], np.int32))  # 1 -> 0, 0 -> 1, 2 -> 1
    features = GraphBatcher(graph)(np.zeros([2, 3, 1])).node_sets[AGENTS].features
    np.testing.assert_array_equal(features[IN_NEIGHBOURS].numpy(), [[1, -1], [0, 2], [-1, -1],
                                                                    [4, -1], [3, 5], [-1, -1]])
    np.testing.assert_array_equal(features[OUT_NEIGHBOURS].numpy(), [[1], [0], [1], [4], [3], [4]])
