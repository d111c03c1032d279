"""NeighbourhoodCritic: what each kind reads, its output shapes, and its config."""

import numpy as np
import pytest
import tensorflow as tf

from keras_ip.graphs import from_edges, graph_tensor
from keras_ip.layers import NeighbourhoodCritic

PATH4 = from_edges(4, [(0, 1), (1, 2), (2, 3)])  # 0 - 1 - 2 - 3
STATES = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)


def test_continuous_q_reads_own_and_neighbour_actions_only():
    tf.keras.utils.set_random_seed(0)         # an unlucky draw leaves agent 1's hidden units all dead (Q = 0)
    critic = NeighbourhoodCritic("continuous_q", units=8, hops=1)
    graph = graph_tensor(STATES, PATH4)
    actions = np.zeros((4, 2), np.float32)
    moved = actions.copy()
    moved[0] = [0.5, -0.5]                    # agent 0 acts differently
    q, q_moved = critic(graph, actions).numpy(), critic(graph, moved).numpy()
    assert q.shape == (4,)
    assert q[0] != q_moved[0] and q[1] != q_moved[1]  # itself and its neighbour
    assert q[2] == q_moved[2] and q[3] == q_moved[3]  # a_0 is not in a_N2 or a_N3


def test_value_reads_states_within_its_hops():
    graph = graph_tensor(STATES, PATH4)
    changed = STATES.copy()
    changed[0] += 1.0
    for hops, unchanged in ((0, [1, 2, 3]), (1, [2, 3]), (2, [3])):
        value = NeighbourhoodCritic("value", units=8, hops=hops)
        v, v_changed = value(graph).numpy(), value(graph_tensor(changed, PATH4)).numpy()
        np.testing.assert_array_equal(v[unchanged], v_changed[unchanged])
        assert v[0] != v_changed[0]


@pytest.mark.parametrize("kind, num_actions", [("value", None), ("discrete_q", 3), ("continuous_q", None)])
def test_config_round_trip(kind, num_actions):
    critic = NeighbourhoodCritic(kind, units=5, hops=2, num_actions=num_actions, encoder_layers=2)
    clone = tf.keras.layers.deserialize(tf.keras.layers.serialize(critic))
    assert type(clone) is NeighbourhoodCritic and clone.get_config() == critic.get_config()


@pytest.mark.parametrize("kwargs, message", [({"kind": "policy"}, "kind"), ({"kind": "discrete_q"}, "num_actions"),
                                             ({"kind": "value", "num_actions": 3}, "num_actions"),
                                             ({"hops": -1}, "hops")])
def test_invalid_arguments_name_the_argument(kwargs, message):
    with pytest.raises(ValueError, match=message):
        NeighbourhoodCritic(**kwargs)


def test_actions_must_match_the_kind():
    graph = graph_tensor(STATES, PATH4)
    with pytest.raises(ValueError, match="value critic takes actions=None"):
        NeighbourhoodCritic("value", units=4)(graph, tf.zeros([4, 2]))
    with pytest.raises(ValueError, match="continuous_q critic takes actions=a tensor"):
        NeighbourhoodCritic("continuous_q", units=4)(graph)


@pytest.mark.parametrize("kind, num_actions, actions", [("discrete_q", 3, tf.one_hot([0, 1, 2, 0], 3)),
                                                        ("continuous_q", None, tf.fill([4, 2], 0.3)),
                                                        ("value", None, None)])
def test_copies_are_independent_critics_computed_together(kind, num_actions, actions):
    """copies=2 equals two single critics holding each copy's weights, and the copies start different."""
    graph = graph_tensor(STATES, PATH4)
    twin = NeighbourhoodCritic(kind, units=6, hops=1, num_actions=num_actions, encoder_layers=2, copies=2)
    both = twin(graph, actions).numpy()
    assert both.shape == (4, 2) + ((3,) if kind == "discrete_q" else ())
    assert not np.allclose(both[:, 0], both[:, 1])
    for copy in range(2):
        single = NeighbourhoodCritic(kind, units=6, hops=1, num_actions=num_actions, encoder_layers=2)
        single(graph, actions)
        single.set_weights([w[copy:copy + 1] for w in twin.get_weights()])
        np.testing.assert_allclose(single(graph, actions).numpy(), both[:, copy], rtol=1e-5, atol=1e-6)


def test_state_features_are_shared_by_every_action_evaluation():
    graph = graph_tensor(STATES, PATH4)
    twin = NeighbourhoodCritic("discrete_q", units=6, num_actions=3, copies=2)
    actions = tf.one_hot([2, 1, 0, 1], 3)
    with pytest.raises(ValueError, match="no weights yet"):
        twin.state_features(graph)
    q_of_call = twin(graph, actions).numpy()
    state = twin.state_features(graph)
    np.testing.assert_allclose(twin.q_values(state, actions).numpy(), q_of_call, rtol=1e-6)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(actions)
        q = tf.reduce_sum(twin.q_values(state.frozen(), actions, frozen=True))
    assert all(g is None for g in tape.gradient(q, twin.trainable_variables))
    assert tape.gradient(q, actions) is not None


@pytest.mark.parametrize("kind, num_actions, actions", [("discrete_q", 3, tf.one_hot([0, 1, 2, 0], 3)),
                                                        ("value", None, None)])
def test_mean_aggregation_is_the_sum_over_the_in_degree(kind, num_actions, actions):
    """On a ring every agent has two in-neighbours, so a mean critic equals a sum critic whose
    weights on aggregated inputs (state neighbours, and the action context's rows of the
    hidden-out kernel) are halved."""
    ring = graph_tensor(STATES, from_edges(4, [(0, 1), (1, 2), (2, 3), (3, 0)]))
    mean = NeighbourhoodCritic(kind, units=6, hops=1, num_actions=num_actions, aggregation="mean")
    total = NeighbourhoodCritic(kind, units=6, hops=1, num_actions=num_actions, aggregation="sum")
    expected = mean(ring, actions).numpy()
    total(ring, actions)
    total.set_weights(mean.get_weights())
    assert not np.allclose(total(ring, actions).numpy(), expected)  # same weights, summed: different
    total.w_neighbours[0].kernel.assign(mean.w_neighbours[0].kernel / 2.0)
    if kind == "discrete_q":
        halved = mean.w_out.kernel.numpy()
        halved[:, 6:12] /= 2.0                          # rows of [h_i, c_i] that read the context c_i
        total.w_out.kernel.assign(halved)
    np.testing.assert_allclose(total(ring, actions).numpy(), expected, rtol=1e-5, atol=1e-6)


def test_invalid_aggregation_names_the_argument():
    with pytest.raises(ValueError, match="aggregation.*Received: aggregation='max'"):
        NeighbourhoodCritic("value", aggregation="max")
