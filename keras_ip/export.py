"""SavedModel export with a plain-tensor serving signature (what TF Serving loads).

The exported `serving_default` takes
  observations  float32 [num_agents, obs_dim]
  senders       int32 [num_edges]   (both directions of every link)
  receivers     int32 [num_edges]
  groups        int32 [num_agents]  (only for agents in several groups: each agent's group index)
and returns
  actions        int32 [num_agents] (discrete) or float32 [num_agents, k] in [low, high]
  probabilities  float32 [num_agents, A]            (discrete)
  mean, std      float32 [num_agents, k], pre-tanh  (continuous)
Greedy actions: argmax of the probabilities, or low + (tanh(mean) + 1) (high - low) / 2.

For groups whose Discrete action spaces differ, an agent's actions and probabilities never
fall outside its group's space.

Only the actor's variables are tracked, not the Keras objects, so the SavedModel holds
plain TF functions: a process that imports only `tensorflow` can load and run it.

Next to the model, `assets.extra/keras_ip.json` (the directory TF Serving leaves alone for
such files) says how to call it, so a client needs nothing from keras-ip:
  agents         the agent names, in row order
  groups, group_names   each agent's group index, and the groups' names
  has_groups     whether the signature takes `groups`
  obs_dim, obs_sizes    the row width, and each agent's flattened observation size (its
                 row holds its observation, flattened, then zeros up to obs_dim)
  senders, receivers    the static graph's edges, or null for a k-NN graph (the client
                 builds the k nearest agents' edges, `knn_k` of them per agent, j -> i)
  trained        whether each agent's group learned (groups with a fixed policy did not,
                 and their rows are not meant to be served)
  action_space   "discrete" (with `num_actions` per agent) or "box" (`low`, `high`)
"""

from __future__ import annotations

import json
import pathlib

import tensorflow as tf

from keras_ip.graphs.tensor import GROUP, HIDDEN_STATE, assemble_graph_tensor, reverse_edge_index_tf
from keras_ip.networks import Actor


class _ServingModule(tf.Module):
    def __init__(self, actor: Actor, obs_dim: int, num_groups: int = 1):
        super().__init__(name="keras_ip_policy")
        self.policy_variables = list(actor.variables)  # tracked so the SavedModel stores them
        spec = actor.action_spec
        signature = [tf.TensorSpec([None, obs_dim], tf.float32, name="observations"),
                     tf.TensorSpec([None], tf.int32, name="senders"),
                     tf.TensorSpec([None], tf.int32, name="receivers")]
        if num_groups > 1:
            signature.append(tf.TensorSpec([None], tf.int32, name="groups"))

        @tf.function(input_signature=signature)
        def serve(observations, senders, receivers, groups=None):
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
            features = {HIDDEN_STATE: observations}
            if groups is not None:
                checks += [tf.debugging.assert_equal(tf.shape(groups), [num_agents],
                                                     message="groups must hold one group index per agent"),
                           tf.debugging.assert_non_negative(groups, message="group index below 0"),
                           tf.debugging.assert_less(groups, num_groups, message="group index out of range")]
                features[GROUP] = groups
            with tf.control_dependencies(checks):
                reverse = reverse_edge_index_tf(senders, receivers, num_agents)
                graph = assemble_graph_tensor(features, senders, receivers, reverse, 1, num_agents, tf.size(senders))
                output = actor(graph)
            if spec.discrete:
                return {"actions": tf.argmax(output, axis=-1, output_type=tf.int32),
                        "probabilities": tf.nn.softmax(output)}
            mean, log_std = output
            return {"actions": spec.from_unit_box(tf.tanh(mean)), "mean": mean, "std": tf.exp(log_std)}

        self.serve = serve


def export_saved_model(actor: Actor, obs_dim: int, path, num_groups: int = 1, description=None) -> str:
    """Writes the actor as a SavedModel with the `serving_default` signature above.

    Args:
      actor: a built `keras_ip.networks.Actor` (or a policy with the same call and `action_spec`).
      obs_dim: per-agent observation size.
      path: directory to write (TF Serving expects it under a numeric version folder,
        e.g. models/ip/1).
      num_groups: agent groups; with more than one the signature takes `groups`.
      description: a JSON-ready dict written to `assets.extra/keras_ip.json` (see above), or None.
    Returns:
      the path written, as a string.
    """
    module = _ServingModule(actor, obs_dim, num_groups)
    tf.saved_model.save(module, str(path), signatures={"serving_default": module.serve})
    if description is not None:
        extra = pathlib.Path(path) / DESCRIPTION_FILE
        extra.parent.mkdir(exist_ok=True)
        extra.write_text(json.dumps(description, indent=1))
    return str(path)


DESCRIPTION_FILE = "assets.extra/keras_ip.json"
