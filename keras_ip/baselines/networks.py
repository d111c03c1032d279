"""The Q networks of the baselines and the policies read from them (shared weights across agents).

DGN (Jiang et al. 2020): an observation encoder, `conv_layers` relation layers (multi-head
dot-product attention over each agent's neighbourhood, itself included) and a Q head on
the concatenation of the encoder's and every relation layer's output.

MFQ (Yang et al. 2018): Q(s_i, a_i, abar_i), an observation encoder whose output is
concatenated with the neighbours' mean action abar_i before the Q head.

IQL and QMIX's agents: Q(o_i, .), an observation encoder and a Q head, nothing else
(`IndependentQNetwork`): no edge, degree or neighbour feature is read.

Attention and the mean action both average over neighbours, which hides how many there are;
by default both encoders read [O_i, log(1 + |N(i)|)] (`degree_input`, see
`keras_ip.layers.base`), so Q can follow a reward that sums over an agent's edges.

A policy wrapper (`EpsilonGreedy`, `BoltzmannPolicy`) maps a GraphTensor to action logits,
so `keras_ip.sac.policy.compiled_actions` acts with it (argmax greedy, Gumbel-max samples)
and `keras_ip.export` serves it, as for the IP actor.
"""

from __future__ import annotations

import math

import tensorflow as tf
import tensorflow_gnn as tfgnn

from keras_ip._checks import check_bool, check_int
from keras_ip.baselines import losses
from keras_ip.graphs.tensor import AGENTS
from keras_ip.layers.base import encode_states, make_encoder
from keras_ip.layers.graph_ops import GraphOps
from keras_ip.networks import ActionSpec


def _dense(units, activation, name, use_bias=True):
    return tf.keras.layers.Dense(units, activation=activation, use_bias=use_bias, name=name)


@tf.keras.utils.register_keras_serializable(package="keras_ip")
class RelationAttention(tf.keras.layers.Layer):
    """DGN's convolutional layer (Jiang et al. 2020, eq. 1 and 2): multi-head dot-product
    attention over each agent's neighbourhood N+(i) = N(i) + {i}.

      alpha_ij^m = softmax_{j in N+(i)} (W_Q^m h_i) . (W_K^m h_j) / sqrt(units)
      h_i'       = relu(W_O concat_m sum_{j in N+(i)} alpha_ij^m W_V^m h_j)

    Example:
      >>> graph = keras_ip.graphs.graph_tensor(np.ones((4, 3), np.float32), keras_ip.graphs.grid(2, 2))
      >>> h, (log_self, log_edges) = RelationAttention(units=8, heads=2)(tf.ones([4, 8]), graph)
      >>> h.shape, log_self.shape, log_edges.shape       # 4 agents, 8 directed grid edges
      (TensorShape([4, 8]), TensorShape([4, 2]), TensorShape([8, 2]))

    Init args:
      units: width of every head's query, key and value and of the output.
      heads: number of attention heads H.
    Call args:
      h: float32 [nodes, d] agent features.
      graph: the `tfgnn.GraphTensor` whose "neighbours" edges j -> i define N(i).
    Call returns:
      (h' [nodes, units], (log_alpha_self [nodes, H], log_alpha_edges [edges, H])): the new
      features and the attention, log alpha_ii and log alpha_ji for each edge j -> i.
    """

    def __init__(self, units: int, heads: int, **kwargs):
        super().__init__(**kwargs)
        self.units = check_int("units", units)
        self.heads = check_int("heads", heads)
        self.query = _dense(self.heads * self.units, None, "query", use_bias=False)
        self.key = _dense(self.heads * self.units, None, "key", use_bias=False)
        self.value = _dense(self.heads * self.units, None, "value", use_bias=False)
        self.output_layer = _dense(self.units, "relu", "output")

    def call(self, h, graph: tfgnn.GraphTensor):
        ops = GraphOps(graph)
        split = lambda x: tf.reshape(x, [-1, self.heads, self.units])  # noqa: E731  [nodes, H, units]
        query, key, value = split(self.query(h)), split(self.key(h)), split(self.value(h))
        scale = 1.0 / math.sqrt(self.units)
        self_scores = tf.reduce_sum(query * key, -1) * scale                                         # [nodes, H]
        edge_scores = tf.reduce_sum(ops.from_receivers(query) * ops.from_senders(key), -1) * scale  # [edges, H]
        log_self, log_edges = losses.neighbourhood_log_softmax(self_scores, edge_scores, ops)
        mixed = (tf.exp(log_self)[..., None] * value                                                 # [nodes, H, units]
                 + ops.sum_at_receivers(tf.exp(log_edges)[..., None] * ops.from_senders(value)))
        return self.output_layer(tf.reshape(mixed, [-1, self.heads * self.units])), (log_self, log_edges)

    def get_config(self):
        return dict(super().get_config(), units=self.units, heads=self.heads)


@tf.keras.utils.register_keras_serializable(package="keras_ip")
class DGNNetwork(tf.keras.Model):
    """DGN's Q network: Q(O_i, .) from the agent's observation and its relation layers.

    Init args:
      num_actions: A. units: width of every layer. conv_layers: relation layers (>= 1).
      heads: attention heads per relation layer. encoder_layers: depth of the encoder MLP.
      num_groups: agent groups, each with its own first encoder layer.
      degree_input: the encoder reads log(1 + in-degree) after the observation (default True).
      group_num_actions: each group's action count when they differ (see
        `keras_ip.networks.ActionSpec`); Q of actions a group lacks is `INVALID_SCORE`.
    Call args:
      graph: `tfgnn.GraphTensor` of joint observations.
      return_attention: also return the last relation layer's attention.
    Call returns:
      Q [nodes, A]; with return_attention, (Q, (log_alpha_self [nodes, H], log_alpha_edges [edges, H])).
    """

    def __init__(self, num_actions: int, units: int = 128, conv_layers: int = 2, heads: int = 4,
                 encoder_layers: int = 1, num_groups: int = 1, group_num_actions=None,
                 degree_input: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.num_actions = check_int("num_actions", num_actions)
        self.units = check_int("units", units)
        self.conv_layers = check_int("conv_layers", conv_layers)
        self.heads = check_int("heads", heads)
        self.encoder_layers = check_int("encoder_layers", encoder_layers)
        self.num_groups = check_int("num_groups", num_groups)
        self.degree_input = check_bool("degree_input", degree_input)
        self.action_spec = ActionSpec(num_actions=self.num_actions, group_num_actions=group_num_actions)
        self.encoder = make_encoder(self.units, self.encoder_layers, self.num_groups, _dense)
        self.relations = [RelationAttention(self.units, self.heads, name=f"relation_{m}")
                          for m in range(self.conv_layers)]
        self.q_head = _dense(self.num_actions, None, "q")

    def call(self, graph: tfgnn.GraphTensor, return_attention: bool = False):
        features = [encode_states(graph, self.encoder, self.degree_input)]  # [nodes, units] each
        for relation in self.relations:
            h, attention = relation(features[-1], graph)
            features.append(h)
        q = self.q_head(tf.concat(features, axis=-1))                        # [nodes, A]
        q = self.action_spec.mask(q, graph)
        return (q, attention) if return_attention else q

    def get_config(self):
        return dict(super().get_config(), num_actions=self.num_actions, units=self.units,
                    conv_layers=self.conv_layers, heads=self.heads, encoder_layers=self.encoder_layers,
                    degree_input=self.degree_input,
                    num_groups=self.num_groups,
                    group_num_actions=self.action_spec.group_num_actions)


@tf.keras.utils.register_keras_serializable(package="keras_ip")
class IndependentQNetwork(tf.keras.Model):
    """IQL's (and QMIX's agent) Q network: Q(o_i, .) = W_q MLP(o_i) + b_q, one per agent with
    shared weights, reading only agent i's own observation.

    The encoder reads o_i alone (no log-degree input, unlike DGN's and MFQ's) and nothing is
    aggregated over edges, so Q_i is the same on any graph and whatever the other agents observe.

    Example:
      >>> graph = keras_ip.graphs.graph_tensor(np.ones((4, 3), np.float32), keras_ip.graphs.empty(4))
      >>> IndependentQNetwork(num_actions=5, units=8)(graph).shape
      TensorShape([4, 5])

    Init args:
      num_actions: A. units: width of every encoder layer. encoder_layers: depth of the encoder MLP.
      num_groups: agent groups, each with its own first encoder layer.
      group_num_actions: each group's action count when they differ (see
        `keras_ip.networks.ActionSpec`); Q of actions a group lacks is `INVALID_SCORE`.
    Call args:
      graph: `tfgnn.GraphTensor` of joint observations (only its node features are read).
    Call returns:
      Q [nodes, A].
    """

    def __init__(self, num_actions: int, units: int = 128, encoder_layers: int = 1, num_groups: int = 1,
                 group_num_actions=None, **kwargs):
        super().__init__(**kwargs)
        self.num_actions = check_int("num_actions", num_actions)
        self.units = check_int("units", units)
        self.encoder_layers = check_int("encoder_layers", encoder_layers)
        self.num_groups = check_int("num_groups", num_groups)
        self.action_spec = ActionSpec(num_actions=self.num_actions, group_num_actions=group_num_actions)
        self.encoder = make_encoder(self.units, self.encoder_layers, self.num_groups, _dense)
        self.q_head = _dense(self.num_actions, None, "q")

    def call(self, graph: tfgnn.GraphTensor):
        h = encode_states(graph, self.encoder, degree_input=False)      # [nodes, units], from o_i alone
        return self.action_spec.mask(self.q_head(h), graph)             # [nodes, A]

    def get_config(self):
        return dict(super().get_config(), num_actions=self.num_actions, units=self.units,
                    encoder_layers=self.encoder_layers, num_groups=self.num_groups,
                    group_num_actions=self.action_spec.group_num_actions)


class EpsilonGreedy(tf.keras.Model):
    """The epsilon-greedy policy of a Q network, as logits (see `losses.epsilon_greedy_log_probs`).

    Attributes:
      epsilon: non-trainable scalar variable, the exploration rate the logits use.
      action_spec: the discrete `ActionSpec`.
    Call args:
      graph: `tfgnn.GraphTensor`.
    Call returns:
      log pi [nodes, A].
    """

    def __init__(self, q_network: tf.keras.Model, **kwargs):
        super().__init__(**kwargs)
        self.q_network = q_network
        self.action_spec = q_network.action_spec
        self.epsilon = tf.Variable(0.0, trainable=False, name="epsilon")

    def call(self, graph):
        return losses.epsilon_greedy_log_probs(self.q_network(graph), self.epsilon)


@tf.keras.utils.register_keras_serializable(package="keras_ip")
class MeanFieldQNetwork(tf.keras.Model):
    """MFQ's Q network: Q(s_i, ., abar_i) = W_q relu(W_h [MLP(s_i), abar_i] + b) + b_q.

    Init args:
      num_actions: A. units: width of every layer. encoder_layers: depth of the encoder MLP.
      num_groups: agent groups, each with its own first encoder layer.
      degree_input: the encoder reads log(1 + in-degree) after the observation (default True).
      group_num_actions: each group's action count when they differ (see
        `keras_ip.networks.ActionSpec`); Q of actions a group lacks is `INVALID_SCORE`.
    Call args:
      graph: `tfgnn.GraphTensor` of joint observations.
      mean_actions: float32 [nodes, A], abar_i.
    Call returns:
      Q [nodes, A].
    """

    def __init__(self, num_actions: int, units: int = 128, encoder_layers: int = 1, num_groups: int = 1,
                 group_num_actions=None, degree_input: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.num_actions = check_int("num_actions", num_actions)
        self.units = check_int("units", units)
        self.encoder_layers = check_int("encoder_layers", encoder_layers)
        self.num_groups = check_int("num_groups", num_groups)
        self.degree_input = check_bool("degree_input", degree_input)
        self.action_spec = ActionSpec(num_actions=self.num_actions, group_num_actions=group_num_actions)
        self.encoder = make_encoder(self.units, self.encoder_layers, self.num_groups, _dense)
        self.hidden = _dense(self.units, "relu", "hidden")
        self.q_head = _dense(self.num_actions, None, "q")

    def encode(self, graph: tfgnn.GraphTensor):
        """MLP(s_i), or MLP([s_i, log(1 + |N(i)|)]) with the degree input, [nodes, units]: computed
        once, read by every `q_values` call on the same states."""
        return encode_states(graph, self.encoder, self.degree_input)

    def q_values(self, states, mean_actions):
        """[nodes, units] encoded states and abar [nodes, A] -> Q [nodes, A]."""
        return self.q_head(self.hidden(tf.concat([states, mean_actions], axis=-1)))

    def call(self, graph, mean_actions):
        return self.action_spec.mask(self.q_values(self.encode(graph), mean_actions), graph)

    def get_config(self):
        return dict(super().get_config(), num_actions=self.num_actions, units=self.units,
                    encoder_layers=self.encoder_layers, num_groups=self.num_groups, degree_input=self.degree_input,
                    group_num_actions=self.action_spec.group_num_actions)


class BoltzmannPolicy(tf.keras.Model):
    """MFQ's policy as logits Q(s_i, ., abar_i) / T, at the mean actions of `losses.mean_field_actions`.

    Init args:
      q_network: a `MeanFieldQNetwork`. temperature: T. iterations: mean-field rounds.
    Call args:
      graph: `tfgnn.GraphTensor`.
    Call returns:
      logits [nodes, A]; their softmax is pi(. | s_i, abar_i).
    """

    def __init__(self, q_network: MeanFieldQNetwork, temperature: float, iterations: int, **kwargs):
        super().__init__(**kwargs)
        self.q_network = q_network
        self.temperature = float(temperature)
        self.iterations = check_int("iterations", iterations)
        self.action_spec = q_network.action_spec

    def call(self, graph):
        states = self.q_network.encode(graph)                                           # [nodes, units]
        q_of = lambda mean_actions: self.action_spec.mask(  # noqa: E731
            self.q_network.q_values(states, mean_actions), graph)
        mean_actions = losses.mean_field_actions(q_of, GraphOps(graph, "mean"), graph.node_sets[AGENTS].total_size,
                                                 self.q_network.num_actions, self.temperature, self.iterations)
        return q_of(mean_actions) / self.temperature
