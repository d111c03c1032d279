"""SavedModel export with a plain-tensor serving signature (what TF Serving loads).

The exported `serving_default` takes
  observations  float32 [num_agents, obs_dim]
  senders       int32 [num_edges]   (both directions of every link)
  receivers     int32 [num_edges]
and returns
  actions        int32 [num_agents] (discrete) or float32 [num_agents, k] in [low, high]
  probabilities  float32 [num_agents, A]            (discrete)
  mean, std      float32 [num_agents, k], pre-tanh  (continuous)
Greedy actions: argmax of the probabilities, or low + (tanh(mean) + 1) (high - low) / 2.

Only the actor's variables are tracked, not the Keras objects, so the SavedModel holds
plain TF functions: a process that imports only `tensorflow` can load and run it.
"""

from __future__ import annotations

import tensorflow as tf

from keras_ip.graphs.tensor import HIDDEN_STATE, assemble_graph_tensor, reverse_edge_index_tf
from keras_ip.networks import Actor


class _ServingModule(tf.Module):
    def __init__(self, actor: Actor, obs_dim: int):
        super().__init__(name="keras_ip_policy")
        self.policy_variables = list(actor.variables)  # tracked so the SavedModel stores them
        spec = actor.action_spec

        @tf.function(input_signature=[tf.TensorSpec([None, obs_dim], tf.float32, name="observations"),
                                      tf.TensorSpec([None], tf.int32, name="senders"),
                                      tf.TensorSpec([None], tf.int32, name="receivers")])
        def serve(observations, senders, receivers):
            num_agents = tf.shape(observations)[0]
            checks = [
                tf.debugging.assert_all_finite(observations, "observations contain NaN or infinite values"),
                tf.debugging.assert_equal(tf.shape(senders), tf.shape(receivers),
                                          message="senders and receivers must have the same length"),
                tf.debugging.assert_non_negative(tf.concat([senders, receivers], 0),
                                                 message="edge index below 0"),
                tf.debugging.assert_less(tf.concat([senders, receivers], 0), num_agents,
                                         message="edge index out of range for the number of agents"),
            ]
            with tf.control_dependencies(checks):
                reverse = reverse_edge_index_tf(senders, receivers, num_agents)
                graph = assemble_graph_tensor({HIDDEN_STATE: observations}, senders, receivers, reverse, 1, num_agents,
                                      tf.size(senders))
                output = actor(graph)
            if spec.discrete:
                return {"actions": tf.argmax(output, axis=-1, output_type=tf.int32),
                        "probabilities": tf.nn.softmax(output)}
            mean, log_std = output
            return {"actions": spec.from_unit_box(tf.tanh(mean)), "mean": mean, "std": tf.exp(log_std)}

        self.serve = serve


def export_saved_model(actor: Actor, obs_dim: int, path) -> str:
    """Writes the actor as a SavedModel with the `serving_default` signature above.

    Args:
      actor: a built `keras_ip.networks.Actor`.
      obs_dim: per-agent observation size.
      path: directory to write (TF Serving expects it under a numeric version folder,
        e.g. models/ip/1).
    Returns:
      the path written, as a string.
    """
    module = _ServingModule(actor, obs_dim)
    tf.saved_model.save(module, str(path), signatures={"serving_default": module.serve})
    return str(path)
