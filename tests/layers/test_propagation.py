"""Propagation layers: one hop against numbers worked by hand, two hops against an
independent dense numpy reference, configs that round-trip."""

import numpy as np
import pytest
import tensorflow as tf

import keras_ip
from keras_ip.graphs import GraphBatcher, from_edges, graph_tensor, knn, random
from keras_ip.layers import (GraphOps, IndependentPropagation, LoopyBPPropagation, MeanFieldPropagation,
                             NeighbourAttention, StateOnlyPropagation)

PATH = from_edges(3, [(0, 1), (1, 2)])   # 0 - 1 - 2
STATES = np.array([[1.0], [2.0], [3.0]], np.float32)
SIGMOID = {1: 0.7310586, 2: 0.8807971, 3: 0.9525741}
IDENTITY = np.eye(2, dtype=np.float32)
BIAS = np.array([-2.5, 0.0], np.float32)


def _hand_weights(layer):
    """h0_i = relu([s_i, -s_i]) = [s_i, 0]; mu0_i = softmax([s_i, 0]) = [sigmoid(s_i), 1 - sigmoid(s_i)].

    The layer reads s_i alone (degree_input=False), as in the paper's equations worked below."""
    layer(graph_tensor(STATES, PATH))  # build
    layer.encoder[0].set_weights([np.array([[1.0, -1.0]], np.float32), np.zeros(2, np.float32)])
    layer.intention.set_weights([np.array([[1.0, 0.0], [0.0, 0.0]], np.float32), np.zeros(2, np.float32)])


@pytest.mark.parametrize("aggregation, node_1", [
    # mu1_i = relu([s_i - 2.5 + agg_j sigmoid(s_j), agg_j (1 - sigmoid(s_j))]) over neighbours j:
    # node 0 (N={1}): [1 - 2.5 + 0.8807971, 0.1192029] -> relu -> [0, 0.1192029]
    # node 1 (N={0,2}), sum: [2 - 2.5 + 0.7310586 + 0.9525741, 0.2689414 + 0.0474259] = [1.1836327, 0.3163673]
    #                  mean: [2 - 2.5 + (0.7310586 + 0.9525741) / 2, (0.2689414 + 0.0474259) / 2]
    # node 2 (N={1}): [3 - 2.5 + 0.8807971, 0.1192029] = [1.3807971, 0.1192029]
    ("sum", [1.1836327, 0.3163673]), ("mean", [0.34181635, 0.15818365])])
def test_mean_field_one_hop_matches_hand_computation(aggregation, node_1):
    layer = MeanFieldPropagation(units=2, hops=1, intention_dim=2, aggregation=aggregation, degree_input=False)
    _hand_weights(layer)
    layer.w_state[0].set_weights([IDENTITY, BIAS])
    layer.w_intention[0].set_weights([IDENTITY])
    expected = [[0.0, 0.1192029], node_1, [1.3807971, 0.1192029]]
    np.testing.assert_allclose(layer(graph_tensor(STATES, PATH)).numpy(), expected, atol=1e-6)


# On the path every message nu1_ij excludes at most one other message, so only node 1's
# marginal (two incoming messages) differs between sum and mean: [1, 0] + ([0, 0] + [0.5, 0]) / 2.
@pytest.mark.parametrize("aggregation, node_1", [("sum", [1.5, 0.0]), ("mean", [1.25, 0.0])])
def test_loopy_bp_one_hop_matches_hand_computation(aggregation, node_1):
    layer = LoopyBPPropagation(units=2, hops=1, intention_dim=2, aggregation=aggregation, degree_input=False)
    _hand_weights(layer)
    layer.w_message_state[0].set_weights([IDENTITY, BIAS])
    layer.w_message_in[0].set_weights([IDENTITY])
    layer.w_marginal_state.set_weights([IDENTITY, np.array([-1.0, 0.0], np.float32)])
    layer.w_marginal_in.set_weights([IDENTITY])
    # nu0_ij = mu0_i. nu1_ij = relu([s_i - 2.5, 0] + sum_{k in N(i) minus j} mu0_k):
    #   1->0: [2 - 2.5 + 0.9525741, 0.0474259] = [0.4525741, 0.0474259]   (k = 2)
    #   0->1: [1 - 2.5, 0] -> [0, 0]                                       (no k)
    #   2->1: [3 - 2.5, 0] = [0.5, 0]                                      (no k)
    #   1->2: [2 - 2.5 + 0.7310586, 0.2689414] = [0.2310586, 0.2689414]   (k = 0)
    # mu_i = relu([s_i - 1, 0] + sum_k nu1_ki):
    #   node 0: [0, 0] + nu(1->0) = [0.4525741, 0.0474259]
    #   node 1: [1, 0] + nu(0->1) + nu(2->1) = [1.5, 0]
    #   node 2: [2, 0] + nu(1->2) = [2.2310586, 0.2689414]
    expected = [[0.4525741, 0.0474259], node_1, [2.2310586, 0.2689414]]
    np.testing.assert_allclose(layer(graph_tensor(STATES, PATH)).numpy(), expected, atol=1e-6)


# out_i = relu([s_i - 2.5, 0] + agg_j [s_j, 0]) over neighbours j (h0_i = [s_i, 0]):
#   sum:  node 0: 1 - 2.5 + 2 = 0.5;  node 1: 2 - 2.5 + 1 + 3 = 3.5;        node 2: 3 - 2.5 + 2 = 2.5
#   mean: node 0: 0.5;                node 1: 2 - 2.5 + (1 + 3) / 2 = 1.5;  node 2: 2.5
@pytest.mark.parametrize("aggregation, node_1", [("sum", 3.5), ("mean", 1.5)])
def test_state_only_one_hop_matches_hand_computation(aggregation, node_1):
    layer = StateOnlyPropagation(units=2, hops=1, intention_dim=2, aggregation=aggregation, degree_input=False)
    layer(graph_tensor(STATES, PATH))  # build
    layer.encoder[0].set_weights([np.array([[1.0, -1.0]], np.float32), np.zeros(2, np.float32)])
    layer.w_self.set_weights([IDENTITY, BIAS])
    layer.w_neighbours.set_weights([IDENTITY])
    expected = [[0.5, 0.0], [node_1, 0.0], [2.5, 0.0]]
    np.testing.assert_allclose(layer(graph_tensor(STATES, PATH)).numpy(), expected, atol=1e-6)
    assert layer.intention is None and not any("intention" in v.name for v in layer.weights)


def _dense(layer, x):
    weights = layer.get_weights()
    out = x @ weights[0] + (weights[1] if len(weights) > 1 else 0.0)
    return out


def _relu(x):
    return np.maximum(x, 0.0)


def _softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _aggregate(layer, values, width):
    """The sum of a list of [width] vectors (zeros for none), divided by their count for the mean."""
    total = sum(values, np.zeros(width))
    return total / max(len(values), 1) if layer.aggregation == "mean" else total


def _incoming(layer, adjacency, node_values):
    """agg_{j in N(i)} node_values[j] for every i, from a dense adjacency (adjacency[j, i] = edge j -> i)."""
    sums = adjacency.T @ node_values
    return sums / np.maximum(adjacency.sum(0), 1)[:, None] if layer.aggregation == "mean" else sums


def _reference_prefix(layer, states, adjacency):
    """h^0 .. h^{M-1} and mu^0 with a dense adjacency (adjacency[j, i] = edge j -> i); the
    encoder reads [s_i, log(1 + in-degree_i)] with the degree input."""
    if layer.degree_input:
        states = np.concatenate([states, np.log1p(adjacency.sum(0))[:, None]], axis=1)
    h = _relu(_dense(layer.encoder[0], states))
    hs = [h]
    for m in range(layer.hops - 1):
        h = _relu(_dense(layer.state_self[m], h) + _dense(layer.state_neighbours[m], _incoming(layer, adjacency, h)))
        hs.append(h)
    return hs, _softmax(_dense(layer.intention, hs[0]))


def reference_mean_field(layer, states, adjacency):
    hs, mu = _reference_prefix(layer, states, adjacency)
    for m in range(layer.hops):
        mu = _relu(_dense(layer.w_state[m], hs[m]) + _dense(layer.w_intention[m], _incoming(layer, adjacency, mu)))
    return mu


def reference_state_only(layer, states, adjacency):
    """M - 1 rounds of state messages, then relu(W_self h + W_nb agg h): no intention anywhere."""
    if layer.degree_input:
        states = np.concatenate([states, np.log1p(adjacency.sum(0))[:, None]], axis=1)
    h = _relu(_dense(layer.encoder[0], states))
    for m in range(layer.hops - 1):
        h = _relu(_dense(layer.state_self[m], h) + _dense(layer.state_neighbours[m], _incoming(layer, adjacency, h)))
    return _relu(_dense(layer.w_self, h) + _dense(layer.w_neighbours, _incoming(layer, adjacency, h)))


def reference_loopy_bp(layer, states, adjacency):
    """Messages as a Python dict over ordered pairs (i, j): an independent formulation."""
    hs, mu0 = _reference_prefix(layer, states, adjacency)
    n = len(states)
    pairs = [(i, j) for i in range(n) for j in range(n) if adjacency[i, j]]
    nu = {(i, j): mu0[i] for i, j in pairs}
    for m in range(layer.hops):
        new = {}
        for i, j in pairs:
            excluded = _aggregate(layer, [nu[(k, i)] for k in range(n) if adjacency[k, i] and k != j],
                                  len(nu[(i, j)]))
            new[(i, j)] = _relu(_dense(layer.w_message_state[m], hs[m][i][None])[0]
                                + _dense(layer.w_message_in[m], excluded[None])[0])
        nu = new
    incoming = np.stack([_aggregate(layer, [nu[(k, i)] for k in range(n) if adjacency[k, i]], layer.units)
                         for i in range(n)])
    return _relu(_dense(layer.w_marginal_state, hs[-1]) + _dense(layer.w_marginal_in, incoming))


@pytest.mark.parametrize("cls, reference", [(MeanFieldPropagation, reference_mean_field),
                                            (LoopyBPPropagation, reference_loopy_bp),
                                            (StateOnlyPropagation, reference_state_only)])
@pytest.mark.parametrize("graph", [random(7, 2, seed=3), knn(np.random.default_rng(5).normal(size=(7, 2)), 2,
                                                                  symmetric=False)], ids=["random", "directed_knn"])
@pytest.mark.parametrize("aggregation", ["sum", "mean"])
@pytest.mark.parametrize("degree_input", [True, False])
def test_two_hops_match_dense_reference(cls, reference, graph, aggregation, degree_input):
    states = np.random.default_rng(0).normal(size=(7, 4)).astype(np.float32)
    layer = cls(units=5, hops=2, intention_dim=3, aggregation=aggregation, degree_input=degree_input)
    actual = layer(graph_tensor(states, graph)).numpy()
    np.testing.assert_allclose(actual, reference(layer, states, graph.adjacency()), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("cls", [MeanFieldPropagation, LoopyBPPropagation, StateOnlyPropagation,
                                 IndependentPropagation])
def test_batched_components_do_not_leak_into_each_other(cls):
    graph = random(6, 2, seed=1)
    states = np.random.default_rng(1).normal(size=(3, 6, 4)).astype(np.float32)
    layer = cls(units=8, hops=2, intention_dim=3)
    batched = layer(GraphBatcher(graph)(states)).numpy().reshape(3, 6, 8)
    for b in range(3):
        np.testing.assert_allclose(batched[b], layer(graph_tensor(states[b], graph)).numpy(), rtol=1e-5, atol=1e-6)


def test_propagation_uses_neighbours_and_independent_does_not():
    """Two rings, every agent of degree 2 in both, with different neighbours; and disjoint pairs
    (degree 1). The independent layer reads its own state and, with the degree input, its degree."""
    states = np.random.default_rng(2).normal(size=(4, 3)).astype(np.float32)
    ring, other_ring = from_edges(4, [(0, 1), (1, 2), (2, 3), (3, 0)]), from_edges(4, [(0, 2), (2, 1), (1, 3), (3, 0)])
    pairs = from_edges(4, [(0, 1), (2, 3)])
    for cls in (MeanFieldPropagation, LoopyBPPropagation, StateOnlyPropagation):
        layer = cls(units=8, hops=2, intention_dim=3)
        assert not np.allclose(layer(graph_tensor(states, ring)), layer(graph_tensor(states, other_ring)))
    independent = IndependentPropagation(units=8, hops=2, intention_dim=3)
    np.testing.assert_allclose(independent(graph_tensor(states, ring)), independent(graph_tensor(states, other_ring)))
    assert not np.allclose(independent(graph_tensor(states, ring)), independent(graph_tensor(states, pairs)))
    blind = IndependentPropagation(units=8, hops=2, intention_dim=3, degree_input=False)
    np.testing.assert_allclose(blind(graph_tensor(states, ring)), blind(graph_tensor(states, pairs)))


@pytest.mark.parametrize("cls", [MeanFieldPropagation, LoopyBPPropagation, StateOnlyPropagation,
                                 IndependentPropagation])
def test_config_round_trip_gives_same_architecture_and_outputs(cls):
    layer = cls(units=6, hops=3, intention_dim=4, encoder_layers=2, name="prop")
    graph = graph_tensor(STATES, PATH)
    out = layer(graph)
    config = tf.keras.layers.serialize(layer)
    assert config["config"]["hops"] == 3 and config["config"]["units"] == 6
    clone = tf.keras.layers.deserialize(config)
    assert type(clone) is cls and clone.get_config() == layer.get_config()
    clone(graph)
    clone.set_weights(layer.get_weights())
    np.testing.assert_allclose(clone(graph), out)


@pytest.mark.parametrize("cls", [MeanFieldPropagation, StateOnlyPropagation])
@pytest.mark.parametrize("hops", [1, 2, 3])
def test_state_only_sees_as_far_as_mean_field(cls, hops):
    """On the path 0 - 1 - 2 - 3 - 4, agent 0's output depends on agent j's observation exactly
    when j is within `hops` edges, for IP and for the state-only ablation alike."""
    path = from_edges(5, [(0, 1), (1, 2), (2, 3), (3, 4)])
    states = np.random.default_rng(3).normal(size=(5, 2)).astype(np.float32)
    layer = cls(units=16, hops=hops, intention_dim=3, bias_initializer="ones")
    before = layer(graph_tensor(states, path)).numpy()[0]
    for j in range(1, 5):
        moved = states.copy()
        moved[j] += 3.0
        changed = not np.allclose(layer(graph_tensor(moved, path)).numpy()[0], before)
        assert changed == (j <= hops), (cls.__name__, hops, j)


def test_layers_are_registered_under_keras_ip_package():
    assert tf.keras.utils.get_registered_name(MeanFieldPropagation) == "keras_ip>MeanFieldPropagation"
    assert tf.keras.utils.get_registered_name(LoopyBPPropagation) == "keras_ip>LoopyBPPropagation"
    assert tf.keras.utils.get_registered_name(StateOnlyPropagation) == "keras_ip>StateOnlyPropagation"


@pytest.mark.parametrize("kwargs, message", [({"units": 0}, "units"), ({"hops": 0}, "hops"),
                                             ({"intention_dim": 1.5}, "intention_dim"),
                                             ({"aggregation": "max"}, "aggregation")])
def test_invalid_arguments_name_the_argument(kwargs, message):
    with pytest.raises(ValueError, match=f"{message}.*Received"):
        MeanFieldPropagation(**kwargs)


def test_loopy_bp_needs_reverse_index():
    import tensorflow_gnn as tfgnn
    graph = graph_tensor(STATES, PATH)
    edges = graph.edge_sets[keras_ip.graphs.NEIGHBOURS]
    stripped = graph.replace_features(edge_sets={keras_ip.graphs.NEIGHBOURS: {}})
    assert keras_ip.graphs.REVERSE in edges.features and isinstance(stripped, tfgnn.GraphTensor)
    with pytest.raises(ValueError, match="reverse"):
        LoopyBPPropagation(units=2, hops=1, intention_dim=2)(stripped)


def test_sublayers_start_with_different_weights():
    layer = MeanFieldPropagation(units=8, hops=3, intention_dim=3)
    layer(graph_tensor(STATES, PATH))
    square = [w.numpy() for w in layer.trainable_weights if w.shape == (8, 8)]
    assert len(square) >= 4
    assert all(not np.allclose(a, b) for i, a in enumerate(square) for b in square[i + 1:])


def test_attention_weights_match_hand_computation():
    """e_ji = a^T leaky_relu(W_s h_j + W_r h_i + b), softmax over each node's in-neighbours."""
    attention = NeighbourAttention(units=1)
    h = tf.constant([[1.0], [2.0], [-3.0]])
    ops = GraphOps(graph_tensor(STATES, PATH))
    attention(h, ops)  # build
    attention.w_sender.set_weights([np.array([[1.0]], np.float32)])
    attention.w_receiver.set_weights([np.array([[0.0]], np.float32), np.array([0.5], np.float32)])
    attention.score.set_weights([np.array([[2.0]], np.float32)])
    weights = attention(h, ops).numpy()
    senders, receivers = PATH.senders, PATH.receivers
    scores = 2.0 * np.where(h.numpy()[senders, 0] + 0.5 > 0, h.numpy()[senders, 0] + 0.5,
                            0.2 * (h.numpy()[senders, 0] + 0.5))  # node 2's message scores 2 * 0.2 * -2.5 = -1
    for node in range(3):
        into = receivers == node
        expected = np.exp(scores[into]) / np.exp(scores[into]).sum()
        np.testing.assert_allclose(weights[into], expected, rtol=1e-6)
    assert weights[receivers == 1].sum() == pytest.approx(1.0)
    assert not np.allclose(weights[receivers == 1], 0.5)  # node 1 listens to 0 more than to 2


def test_attention_with_zero_scores_is_the_mean():
    graph = knn(np.random.default_rng(5).normal(size=(7, 2)), 3, symmetric=False)
    states = np.random.default_rng(0).normal(size=(7, 4)).astype(np.float32)
    attentive = MeanFieldPropagation(units=5, hops=2, intention_dim=3, aggregation="attention")
    averaging = MeanFieldPropagation(units=5, hops=2, intention_dim=3, aggregation="mean")
    before = attentive(graph_tensor(states, graph)).numpy()
    averaging(graph_tensor(states, graph))
    for layer in attentive.attention:
        layer.score.set_weights([np.zeros((5, 1), np.float32)])
    shared = [w for w in attentive.weights if "attention" not in w.name]
    averaging.set_weights([w.numpy() for w in shared])
    np.testing.assert_allclose(attentive(graph_tensor(states, graph)).numpy(),
                               averaging(graph_tensor(states, graph)).numpy(), rtol=1e-5, atol=1e-6)
    assert not np.allclose(before, averaging(graph_tensor(states, graph)).numpy())


def test_attention_round_trips_and_is_refused_where_unsupported():
    layer = MeanFieldPropagation(units=4, hops=2, intention_dim=3, aggregation="attention")
    clone = tf.keras.layers.deserialize(tf.keras.layers.serialize(layer))
    assert clone.get_config() == layer.get_config() and len(clone.attention) == 2
    with pytest.raises(ValueError, match="aggregation must be one of \\('sum', 'mean'\\). Received: aggregation='attention'"):
        LoopyBPPropagation(units=4, aggregation="attention")
    with pytest.raises(ValueError, match="Received: aggregation='attention'"):
        keras_ip.layers.NeighbourhoodCritic("value", aggregation="attention")
    with pytest.raises(ValueError, match="needs edge weights"):
        GraphOps(graph_tensor(STATES, PATH), "attention").aggregate_neighbours(tf.ones([3, 2]))
