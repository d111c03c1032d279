"""Tests of keras_ip.graphs.topology and resolve: builders against hand-made adjacency matrices."""

import types

import numpy as np
import pytest

from keras_ip.graphs import KNN, Graph, empty, from_edges, full, grid, knn, random
from keras_ip.graphs.resolve import resolve_graph

# 0 - 1 - 2 - 3 with an extra link 0 - 3 given twice and in both directions, plus 2 - 1 reversed.
LINKS = [(0, 1), (1, 0), (2, 1), (0, 1), (3, 0), (0, 3)]


def assert_adjacency(graph, expected):
    np.testing.assert_array_equal(graph.adjacency().astype(int), np.array(expected))


@pytest.mark.parametrize("graph, expected", [
    (grid(2, 2), [[0, 1, 1, 0],
                  [1, 0, 0, 1],
                  [1, 0, 0, 1],
                  [0, 1, 1, 0]]),
    (grid(2, 3), [[0, 1, 0, 1, 0, 0],
                  [1, 0, 1, 0, 1, 0],
                  [0, 1, 0, 0, 0, 1],
                  [1, 0, 0, 0, 1, 0],
                  [0, 1, 0, 1, 0, 1],
                  [0, 0, 1, 0, 1, 0]]),
    (grid(1, 4), [[0, 1, 0, 0],
                  [1, 0, 1, 0],
                  [0, 1, 0, 1],
                  [0, 0, 1, 0]]),
    (full(3), [[0, 1, 1],
               [1, 0, 1],
               [1, 1, 0]]),
    (from_edges(4, LINKS), [[0, 1, 0, 1],
                            [1, 0, 1, 0],
                            [0, 1, 0, 0],
                            [1, 0, 0, 0]]),
], ids=["grid2x2", "grid2x3", "grid1x4", "full3", "from_edges"])
def test_builder_adjacency(graph, expected):
    assert_adjacency(graph, expected)
    assert graph.num_edges == np.sum(expected)


def test_from_edges_canonical_arrays_and_reverse():
    graph = from_edges(4, LINKS)
    # Sorted by receiver, then sender; duplicates merged.
    np.testing.assert_array_equal(graph.senders, [1, 3, 0, 2, 1, 0])
    np.testing.assert_array_equal(graph.receivers, [0, 0, 1, 1, 2, 3])
    np.testing.assert_array_equal(graph.reverse, [2, 5, 0, 4, 3, 1])
    assert graph.senders.dtype == graph.receivers.dtype == graph.reverse.dtype == np.int32


LINE = [[0.0], [1.0], [3.0], [7.0]]


@pytest.mark.parametrize("positions, k, expected", [
    # Nearest: 0->1, 1->0, 2->1, 3->2; symmetrised, node 1 ends with two neighbours.
    (LINE, 1, [[0, 1, 0, 0],
               [1, 0, 1, 0],
               [0, 1, 0, 1],
               [0, 0, 1, 0]]),
    # Two nearest: 0->{1,2}, 1->{0,2}, 2->{1,0}, 3->{2,1}; only 0 - 3 is missing.
    (LINE, 2, [[0, 1, 1, 0],
               [1, 0, 1, 1],
               [1, 1, 0, 1],
               [0, 1, 1, 0]]),
    # Node 2 (x=2) is 1.5 from both 1 and 3 and takes the lower index, 1. Nobody else picks 2.
    ([[0.0], [0.5], [2.0], [3.5], [4.0]], 1, [[0, 1, 0, 0, 0],
                                              [1, 0, 1, 0, 0],
                                              [0, 1, 0, 0, 0],
                                              [0, 0, 0, 0, 1],
                                              [0, 0, 0, 1, 0]]),
    # 2-D: a unit square's corners 0..3 and a far point 4 whose nearest corner is 1.
    ([[0, 0], [1, 0], [0, 2], [1, 2], [5, 0]], 1, [[0, 1, 0, 0, 0],
                                                    [1, 0, 0, 0, 1],
                                                    [0, 0, 0, 1, 0],
                                                    [0, 0, 1, 0, 0],
                                                    [0, 1, 0, 0, 0]]),
], ids=["line_k1", "line_k2", "tie_lower_index", "plane_k1"])
def test_knn_adjacency(positions, k, expected):
    assert_adjacency(knn(positions, k), expected)


@pytest.mark.parametrize("n, k", [(2, 1), (10, 3), (25, 1)])
def test_random_graph_properties(n, k):
    graph = random(n, k, seed=7)
    adjacency = graph.adjacency()
    assert np.all(graph.degrees() >= k)
    assert not np.any(np.diag(adjacency))
    np.testing.assert_array_equal(adjacency, adjacency.T)
    assert graph == random(n, k, seed=7)


def test_random_graph_depends_on_seed():
    graphs = {random(12, 2, seed=seed) for seed in range(5)}
    assert len(graphs) > 1


@pytest.mark.parametrize("graph", [grid(3, 4), full(5), knn(np.random.default_rng(0).normal(size=(9, 2)), 3),
                                   random(11, 2, seed=3), from_edges(4, LINKS)],
                         ids=["grid", "full", "knn", "random", "from_edges"])
def test_canonical_order_and_reverse(graph):
    keys = graph.receivers.astype(np.int64) * graph.num_nodes + graph.senders
    assert np.all(np.diff(keys) > 0), "edges must be sorted by (receiver, sender) without duplicates"
    assert not np.any(graph.senders == graph.receivers)
    reverse = graph.reverse
    np.testing.assert_array_equal(graph.senders[reverse], graph.receivers)
    np.testing.assert_array_equal(graph.receivers[reverse], graph.senders)
    np.testing.assert_array_equal(reverse[reverse], np.arange(graph.num_edges))


def test_degrees_and_neighbours():
    graph = grid(2, 3)
    np.testing.assert_array_equal(graph.degrees(), [2, 3, 2, 2, 3, 2])
    np.testing.assert_array_equal(graph.neighbours(4), [1, 3, 5])
    np.testing.assert_array_equal(graph.neighbours(0), [1, 3])
    isolated = from_edges(3, [(0, 1)])
    np.testing.assert_array_equal(isolated.degrees(), [1, 1, 0])
    assert isolated.neighbours(2).size == 0


def test_equality_and_hash():
    path = from_edges(3, [(0, 1), (1, 2)])
    same = from_edges(3, [(2, 1), (1, 0), (0, 1)])
    assert path == same and hash(path) == hash(same)
    assert path == grid(1, 3) == Graph(3, [1, 0, 2, 1], [0, 1, 1, 2])
    assert path != full(3)
    assert path != from_edges(4, [(0, 1), (1, 2)])
    assert path != "path"
    assert len({path, same, grid(1, 3), full(3)}) == 2


def test_arrays_are_read_only():
    graph = grid(2, 2)
    with pytest.raises(ValueError, match="read-only"):
        graph.senders[0] = 3


@pytest.mark.parametrize("build, message", [
    (lambda: from_edges(3, [(0, 3)]), "index 3, out of range for num_nodes=3"),
    (lambda: from_edges(3, [(-1, 2)]), "index -1, out of range"),
    (lambda: from_edges(3, [0, 1, 2]), r"shape \[num_links, 2\]. Received shape \(3,\)"),
    (lambda: from_edges(3, [[0, 1, 2], [1, 2, 0]]), r"Received shape \(2, 3\)"),
    (lambda: from_edges(3, [(0, 1), (2, 2)]), "Self loop 2 -> 2"),
    (lambda: from_edges(3, [(0.0, 1.0)]), "must hold integers. Received dtype float64"),
    (lambda: from_edges(0, []), "num_nodes must be an integer >= 1. Received: num_nodes=0"),
    (lambda: grid(0, 2), "rows=0"),
    (lambda: full(True), "n=True"),
    (lambda: knn(LINE, 4), r"k must be an integer in \[1, num_agents - 1\] = \[1, 3\]. Received: k=4"),
    (lambda: knn([[0.0], [np.nan], [1.0]], 1), "NaN"),
    (lambda: knn([0.0, 1.0, 2.0], 1), r"positions must have shape \[num_agents, dims\]"),
    (lambda: random(5, 5, seed=0), "Received: k=5"),
    (lambda: Graph(3, [0, 1], [1]), "same length. Received 2 and 1"),
    (lambda: Graph(3, [[0, 1]], [[1, 0]]), "senders must be a 1-D array"),
    (lambda: Graph(3, [0, 1, 1, 2], [1, 0, 1, 2]), r"self loops \(an agent is not its own neighbour\): 1 -> 1, 2 -> 2"),
    (lambda: Graph(3, [1, 0, 1, 2, 1], [0, 1, 0, 1, 0]), r"duplicate edges: 1 -> 0 \(3 times\)\. .*from_edges"),
], ids=["out_of_range", "negative", "flat_edges", "edges_2x3", "self_loop", "float_dtype", "num_nodes_0",
        "grid_rows_0", "full_bool", "knn_k_too_big", "knn_nan", "knn_1d", "random_k_too_big",
        "length_mismatch", "graph_2d_senders", "graph_self_loops", "graph_duplicates"])
def test_errors(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def env(**attributes):
    return types.SimpleNamespace(**attributes)


@pytest.mark.parametrize("spec, environment, num_agents, expected", [
    ("grid", env(grid_shape=(2, 3)), 6, grid(2, 3)),
    ("grid", env(unwrapped=env(grid_shape=(3, 2))), 6, grid(3, 2)),
    ("grid", env(), 9, grid(3, 3)),
    ("full", env(), 4, full(4)),
    ("random", env(), 8, random(8, 3, seed=5)),
    ("random", env(), 3, random(3, 2, seed=5)),
    (grid(1, 4), env(), 4, grid(1, 4)),
    (lambda e: grid(*e.grid_shape), env(grid_shape=(1, 2)), 2, grid(1, 2)),
], ids=["grid_shape", "unwrapped_grid_shape", "square", "full", "random", "random_small", "graph", "callable"])
def test_resolve_graph(spec, environment, num_agents, expected):
    assert resolve_graph(spec, environment, num_agents, seed=5) == expected


@pytest.mark.parametrize("spec, environment, num_agents, message", [
    ("grid", env(), 6, 'graph="grid" needs env.grid_shape or a square number of agents.*6 agents'),
    ("grid", env(grid_shape=(2, 2)), 6, "The graph has 4 nodes but the environment has 6 agents"),
    (full(3), env(), 4, "The graph has 3 nodes but the environment has 4 agents"),
    (lambda e: "not a graph", env(), 3, "graph callable must return a keras_ip.graphs.Graph. Received: str"),
    ("ring", env(), 3, "Received: graph='ring'"),
], ids=["grid_not_square", "grid_shape_mismatch", "graph_size", "callable_not_graph", "unknown_name"])
def test_resolve_graph_errors(spec, environment, num_agents, message):
    with pytest.raises(ValueError, match=message):
        resolve_graph(spec, environment, num_agents)


def test_directed_graph_marks_missing_reverse_edges_with_minus_one():
    graph = Graph(3, [1, 0, 2], [0, 1, 1])  # 1 -> 0, 0 -> 1, 2 -> 1 (no 1 -> 2)
    np.testing.assert_array_equal(graph.reverse, [1, 0, -1])
    assert not graph.symmetric and from_edges(3, [(0, 1), (1, 2)]).symmetric


def test_directed_knn_gives_exactly_k_in_neighbours_each():
    # points on a line at 0, 1, 3, 7: nearest of 0 -> {1}, of 1 -> {0}, of 3 -> {1}, of 7 -> {3}
    graph = knn(np.array([[0.0], [1.0], [3.0], [7.0]]), 1, symmetric=False)
    np.testing.assert_array_equal(graph.receivers, [0, 1, 2, 3])
    np.testing.assert_array_equal(graph.senders, [1, 0, 1, 2])
    np.testing.assert_array_equal(graph.reverse, [1, 0, -1, -1])
    two = knn(np.random.default_rng(0).normal(size=(9, 2)), 3, symmetric=False)
    assert two.num_edges == 27 and np.all(two.degrees() == 3)


def test_directed_and_dynamic_knn_give_no_self_loops_or_duplicates_even_for_coincident_agents():
    positions = np.zeros((5, 2))  # every distance 0: ties broken by the lower index, self excluded
    for graph in (knn(positions, 2, symmetric=False), KNN(k=8).build(positions)):
        assert not np.any(graph.senders == graph.receivers)
        keys = graph.receivers.astype(np.int64) * 5 + graph.senders
        assert len(np.unique(keys)) == graph.num_edges
    np.testing.assert_array_equal(knn(positions, 2, symmetric=False).senders, [1, 2, 0, 2, 0, 1, 0, 1, 0, 1])


def test_empty_graph_and_graph_none_have_no_edges():
    from keras_ip.graphs.resolve import resolve_graph  # pylint: disable=import-outside-toplevel

    for graph in (empty(5), resolve_graph("none", env=None, num_agents=5)):
        assert graph.num_nodes == 5 and graph.num_edges == 0
        assert_adjacency(graph, np.zeros((5, 5), int))
