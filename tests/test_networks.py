"""`keras_ip.networks`: the actor's Keras config round trip and the action spec."""

import json

import numpy as np
import tensorflow as tf

from keras_ip.graphs import graph_tensor, grid
from keras_ip.networks import ActionSpec, Actor


def test_actor_config_round_trips_to_an_equal_network():
    spec = ActionSpec(num_actions=4, group_num_actions=(4, 2))
    actor = Actor("loopy_bp", spec, units=8, hops=3, encoder_layers=2, num_groups=2, aggregation="sum", name="actor")
    graph = graph_tensor(np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32), grid(2, 2),
                         group=np.array([0, 1, 1, 0], np.int32))
    logits = actor(graph)
    config = json.loads(json.dumps(actor.get_config()))  # plain JSON
    copy = tf.keras.utils.get_registered_object("keras_ip>Actor").from_config(config)
    assert isinstance(copy, Actor) and copy.get_config() == actor.get_config()
    assert copy.action_spec.group_num_actions == (4, 2) and copy.propagation_name == "loopy_bp"
    copy(graph)
    copy.set_weights(actor.get_weights())
    np.testing.assert_array_equal(copy(graph).numpy(), logits.numpy())


def test_continuous_action_spec_survives_its_config():
    spec = ActionSpec(action_dim=2, low=np.array([-1, 0], np.float32), high=np.array([1, 2], np.float32))
    copy = ActionSpec.from_config(spec.to_config())
    assert copy.action_dim == 2 and copy.group_num_actions is None
    np.testing.assert_array_equal(copy.low, spec.low)
    np.testing.assert_array_equal(copy.high, spec.high)
