"""The baselines' maths against numbers worked by hand: DGN's relation attention, its
temporal KL and epsilon-greedy policy, MFQ's neighbour mean action, Boltzmann policy and
mean-field target value."""

import math

import numpy as np
import pytest
import tensorflow as tf

from keras_ip.baselines import DGNNetwork, MeanFieldQNetwork, RelationAttention, losses
from keras_ip.graphs import from_edges, graph_tensor
from keras_ip.layers.graph_ops import GraphOps
from tests.degree_fit import assert_fits_only_with_the_degree

# The path 0 - 1 - 2. Edges sorted by (receiver, sender): 1->0, 0->1, 2->1, 1->2.
PATH = from_edges(3, [(0, 1), (1, 2)])
H = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], np.float32)  # agent features h_i


def softmax(*scores):
    total = sum(math.exp(s) for s in scores)
    return [math.exp(s) / total for s in scores]


def test_path_edge_order():
    np.testing.assert_array_equal(PATH.senders, [1, 0, 2, 1])
    np.testing.assert_array_equal(PATH.receivers, [0, 1, 1, 2])


def test_relation_attention_by_hand():
    """Head 0: W_Q = W_K = W_V = I; head 1: W_Q = 0 (uniform attention). W_O reads head 0 only."""
    graph = graph_tensor(H, PATH)
    layer = RelationAttention(units=2, heads=2)
    layer(tf.constant(H), graph)
    eye, zero = np.eye(2, dtype=np.float32), np.zeros((2, 2), np.float32)
    layer.query.kernel.assign(np.concatenate([eye, zero], axis=1))  # [2, heads * units]
    layer.key.kernel.assign(np.concatenate([eye, eye], axis=1))
    layer.value.kernel.assign(np.concatenate([eye, eye], axis=1))
    layer.output_layer.kernel.assign(np.concatenate([eye, zero], axis=0))
    layer.output_layer.bias.assign(np.zeros(2, np.float32))

    output, (log_self, log_edges) = layer(tf.constant(H), graph)

    r = 1 / math.sqrt(2)  # h_i . h_j / sqrt(units) for one shared coordinate
    a00, a10 = softmax(r, 0.0)            # agent 0: itself (h0.h0 = 1), agent 1 (h0.h1 = 0)
    a11, a01, a21 = softmax(r, 0.0, r)    # agent 1: itself, agent 0, agent 2 (h1.h2 = 1)
    a22, a12 = softmax(2 * r, r)          # agent 2: itself (h2.h2 = 2), agent 1
    np.testing.assert_allclose(np.exp(log_self[:, 0]), [a00, a11, a22], rtol=1e-5)
    np.testing.assert_allclose(np.exp(log_edges[:, 0]), [a10, a01, a21, a12], rtol=1e-5)
    np.testing.assert_allclose(np.exp(log_self[:, 1]), [1 / 2, 1 / 3, 1 / 2], rtol=1e-5)
    np.testing.assert_allclose(np.exp(log_edges[:, 1]), [1 / 2, 1 / 3, 1 / 3, 1 / 2], rtol=1e-5)
    expected = [a00 * H[0] + a10 * H[1], a11 * H[1] + a01 * H[0] + a21 * H[2], a22 * H[2] + a12 * H[1]]
    np.testing.assert_allclose(output, expected, rtol=1e-5)


def test_attention_survives_large_scores_and_isolated_agents():
    graph = graph_tensor(np.zeros((3, 1), np.float32), from_edges(3, [(0, 1)]))  # agent 2 has no neighbours
    ops = GraphOps(graph)
    self_scores = tf.constant([[500.0], [0.0], [-300.0]])
    edge_scores = tf.constant([[0.0], [1000.0]])  # 1 -> 0, 0 -> 1
    log_self, log_edges = losses.neighbourhood_log_softmax(self_scores, edge_scores, ops)
    np.testing.assert_allclose(log_self[:, 0], [0.0, -1000.0, 0.0], atol=1e-4)
    np.testing.assert_allclose(log_edges[:, 0], [-500.0, 0.0], atol=1e-4)


def test_attention_kl_by_hand():
    """One agent with one neighbour: p = (0.5, 0.5), q = (0.25, 0.75)."""
    graph = graph_tensor(np.zeros((2, 1), np.float32), from_edges(2, [(0, 1)]))
    ops = GraphOps(graph)
    log = lambda values: tf.math.log(tf.constant(values))  # noqa: E731
    p = (log([[0.5], [0.5]]), log([[0.5], [0.5]]))       # (self [nodes, 1], edges [edges, 1])
    q = (log([[0.25], [0.25]]), log([[0.75], [0.75]]))
    kl = 0.5 * math.log(0.5 / 0.25) + 0.5 * math.log(0.5 / 0.75)  # the same for both agents
    np.testing.assert_allclose(losses.attention_kl(p, q, ops), kl, rtol=1e-6)
    np.testing.assert_allclose(losses.attention_kl(p, p, ops), 0.0, atol=1e-7)


def test_dgn_q_head_reads_the_encoder_and_every_relation_layer():
    network = DGNNetwork(num_actions=3, units=4, conv_layers=2, heads=1)
    q, (log_self, log_edges) = network(graph_tensor(H, PATH), return_attention=True)
    assert q.shape == (3, 3) and log_self.shape == (3, 1) and log_edges.shape == (4, 1)
    assert network.q_head.kernel.shape == (4 * 3, 3)  # encoder + 2 relation layers, 4 units each


@pytest.mark.parametrize("cls, kwargs, call", [
    (DGNNetwork, dict(conv_layers=1, heads=1), lambda network, graph: network(graph)),
    (MeanFieldQNetwork, {}, lambda network, graph: network(graph, tf.fill([9, 2], 0.5))),
], ids=["DGN", "MFQ"])
def test_q_networks_read_the_degree_by_default_and_fit_a_degree_target_only_with_it(cls, kwargs, call):
    """Attention (DGN) and the mean action (MFQ) both average over neighbours: blind to the degree."""
    assert cls(2).get_config()["degree_input"] is True
    assert_fits_only_with_the_degree(lambda degree_input: cls(2, units=16, degree_input=degree_input, **kwargs), call)


def test_epsilon_greedy_by_hand():
    q = tf.constant([[1.0, 3.0, 2.0], [0.0, -1.0, -2.0]])
    probs = np.exp(losses.epsilon_greedy_log_probs(q, 0.3))
    np.testing.assert_allclose(probs, [[0.1, 0.8, 0.1], [0.8, 0.1, 0.1]], rtol=1e-6)
    greedy = np.exp(losses.epsilon_greedy_log_probs(q, 0.0))
    np.testing.assert_array_equal(greedy, [[0, 1, 0], [1, 0, 0]])


@pytest.mark.parametrize("step, expected", [(0, 1.0), (500, 0.525), (1000, 0.05), (5000, 0.05)])
def test_linear_epsilon(step, expected):
    assert losses.linear_epsilon(step, 1.0, 0.05, 1000) == pytest.approx(expected)


def test_neighbour_mean_action_by_hand():
    """Actions 0, 1, 1 on the path: agent 0 sees agent 1, agent 1 sees 0 and 2, agent 2 sees 1."""
    ops = GraphOps(graph_tensor(H, PATH), "mean")
    one_hot = tf.one_hot([0, 1, 1], 2)
    np.testing.assert_allclose(losses.neighbour_mean_action(one_hot, ops), [[0, 1], [0.5, 0.5], [0, 1]])


def test_mean_field_target_value_by_hand():
    """Q_online(s, a, abar) = c_a abar_a with c = (1, 2), Q_target with c = (3, 1), T = 1."""
    ops = GraphOps(graph_tensor(H, PATH), "mean")
    online_of = lambda mean_actions: mean_actions * tf.constant([1.0, 2.0])  # noqa: E731
    target_of = lambda mean_actions: mean_actions * tf.constant([3.0, 1.0])  # noqa: E731
    # abar^0 = (1/2, 1/2) for all; every neighbour's pi = softmax(1/2, 1) -> every abar' is that pi.
    pi_neighbour = softmax(0.5, 1.0)
    mean_actions = losses.mean_field_actions(online_of, ops, 3, 2, 1.0, iterations=1)
    np.testing.assert_allclose(mean_actions, [pi_neighbour] * 3, rtol=1e-6)
    # v = sum_a pi(a | abar') Q_target(a, abar'), pi(. | abar') = softmax(abar'_0, 2 abar'_1).
    pi = softmax(pi_neighbour[0], 2 * pi_neighbour[1])
    value = pi[0] * 3 * pi_neighbour[0] + pi[1] * 1 * pi_neighbour[1]
    np.testing.assert_allclose(losses.mean_field_value(online_of, target_of, mean_actions, 1.0), [value] * 3,
                               rtol=1e-6)


def test_boltzmann_temperature():
    q = tf.constant([[0.0, 1.0]])
    np.testing.assert_allclose(losses.boltzmann(q, 0.5), [softmax(0.0, 2.0)], rtol=1e-6)


def test_uniform_mean_action_is_a_fixed_point_that_more_rounds_leave_under_a_bias():
    """Coordination-like Q (an action is worth the share of neighbours playing it), T = 0.1: from
    uniform, a symmetric Q stays uniform; a bias of 0.01 towards action 1 grows with each round."""
    ops = GraphOps(graph_tensor(H, PATH), "mean")
    symmetric = lambda mean_actions: mean_actions  # noqa: E731
    np.testing.assert_allclose(losses.mean_field_actions(symmetric, ops, 3, 2, 0.1, iterations=5), 0.5, atol=1e-6)
    biased = lambda mean_actions: mean_actions + tf.constant([0.0, 0.01])  # noqa: E731
    shares = [float(losses.mean_field_actions(biased, ops, 3, 2, 0.1, iterations=n)[1, 1]) for n in (1, 2, 3)]
    first = softmax(0.5 / 0.1, 0.51 / 0.1)[1]       # every neighbour at abar = (1/2, 1/2)
    assert shares[0] == pytest.approx(first, rel=1e-5)
    assert shares[1] == pytest.approx(softmax((1 - first) / 0.1, (first + 0.01) / 0.1)[1], rel=1e-5)
    assert shares[0] < shares[1] < shares[2]
