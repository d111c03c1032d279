"""Signals, lanes, links and the road graph read from .net.xml files."""

import numpy as np

from keras_ip.envs.traffic import read_network, scenarios
from keras_ip.graphs import grid


def test_road_graph_of_a_generated_3x3_grid_is_the_3x3_lattice():
    network = read_network(scenarios.grid(3).net_file)
    assert network.graph == grid(3, 3)
    assert network.tls_ids == ("A0", "B0", "C0", "A1", "B1", "C1", "A2", "B2", "C2")  # row-major from the bottom


def test_road_graph_of_resco_grid4x4_is_the_4x4_lattice():
    assert read_network(scenarios.resco("grid4x4").net_file).graph == grid(4, 4)


def test_city_road_graph_is_connected_and_sparse():
    network = read_network(scenarios.resco("cologne8").net_file)
    degrees = network.graph.degrees()
    assert network.graph.symmetric and degrees.min() >= 1 and degrees.max() < network.num_agents - 1


def test_padded_arrays_are_consistent():
    network = read_network(scenarios.resco("cologne8").net_file)
    n, p, k = network.num_agents, network.max_phases, network.link_in.shape[1]
    assert network.serves.shape == (n, p, k) and network.link_out.shape == (n, k)
    assert np.array_equal(network.link_in >= 0, network.link_out >= 0)
    for i in range(n):  # each signal's incoming lanes are exactly its links' incoming lanes
        own = set(network.in_lanes[i][network.in_lanes[i] >= 0])
        assert own == set(network.link_in[i][network.link_in[i] >= 0])
        assert not network.serves[i, network.num_phases[i]:].any()
        assert len(network.green_states[i]) == network.num_phases[i]
    assert np.all(network.lane_capacity > 0)
