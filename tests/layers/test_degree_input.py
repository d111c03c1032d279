"""The degree input: log(1 + in-degree) concatenated to each agent's state. Without it a network
that averages over neighbours gives every agent of a graph with equal observations the same
output, so it cannot fit a target that sums over an agent's edges (the coordination game's
reward, a traffic reward over incoming lanes)."""

import numpy as np
import pytest
import tensorflow as tf

from keras_ip.graphs import GraphBatcher, graph_tensor
from keras_ip.layers import GraphOps, MeanFieldPropagation, NeighbourhoodCritic
from keras_ip.networks import ActionSpec, build_networks
from tests.degree_fit import DEGREES, EQUAL_STATES, GRID, assert_fits_only_with_the_degree

class PolicyRegressor(tf.keras.Model):
    """A mean-field propagation layer with a linear read-out, to regress its output."""

    def __init__(self, degree_input):
        super().__init__()
        self.propagation = MeanFieldPropagation(units=16, hops=1, intention_dim=2, degree_input=degree_input)
        self.out = tf.keras.layers.Dense(1)

    def call(self, graph):
        return self.out(self.propagation(graph))


LAYERS = {
    "value_critic": (lambda degree_input: NeighbourhoodCritic("value", units=16, hops=1, degree_input=degree_input),
                     lambda model, graph: model(graph)),
    "discrete_q_critic": (lambda degree_input: NeighbourhoodCritic("discrete_q", units=16, hops=1, num_actions=2,
                                                                  degree_input=degree_input),
                          lambda model, graph: model(graph, tf.one_hot(tf.zeros(9, tf.int32), 2))),
    "mean_field_policy": (PolicyRegressor, lambda model, graph: model(graph)),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_mean_aggregation_fits_a_degree_target_only_with_the_degree_input(name):
    assert_fits_only_with_the_degree(*LAYERS[name])


def test_log_degree_by_hand_from_padded_lists_and_from_the_edge_list():
    """3 x 3 grid: corners have 2 neighbours, borders 3, the centre 4."""
    expected = np.log1p(DEGREES)[:, None]                 # [9, 1]
    batched = GraphBatcher(GRID)(tf.ones([2, 9, 3]))     # padded "in_neighbours" lists
    np.testing.assert_allclose(GraphOps(batched).log_degree(), np.concatenate([expected, expected]), rtol=1e-6)
    np.testing.assert_allclose(GraphOps(graph_tensor(EQUAL_STATES, GRID)).log_degree(), expected, rtol=1e-6)
    np.testing.assert_allclose(expected[[0, 1, 4], 0], [np.log(3.0), np.log(4.0), np.log(5.0)], rtol=1e-6)


@pytest.mark.parametrize("make", [lambda: NeighbourhoodCritic("value", units=4, degree_input=True),
                                  lambda: MeanFieldPropagation(units=4, hops=1, degree_input=True)],
                         ids=["critic", "propagation"])
def test_degree_input_widens_the_first_kernel_and_round_trips(make):
    layer = make()
    layer(graph_tensor(EQUAL_STATES, GRID))
    assert layer.encoder[0].kernel.shape[-2] == 3 + 1     # obs_dim + the degree
    clone = tf.keras.layers.deserialize(tf.keras.layers.serialize(layer))
    assert clone.get_config() == layer.get_config() and clone.get_config()["degree_input"] is True


@pytest.mark.parametrize("propagation", ["mean_field", "loopy_bp", "none"])
def test_build_networks_gives_every_network_the_degree_input(propagation):
    """obs_dim 3 + log(1 + in-degree): a first kernel of 4 input rows in the policy and every critic."""
    networks = build_networks(3, ActionSpec(num_actions=2), propagation, units=8, hops=1)
    layers = [networks.actor.propagation, networks.critics, networks.value, networks.target_value]
    assert all(layer.degree_input for layer in layers)
    assert [layer.encoder[0].kernel.shape[-2] for layer in layers] == [4, 4, 4, 4]
