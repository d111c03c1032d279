"""QMIX, monotonic value function factorisation (Rashid, Samvelyan, de Witt, Farquhar, Foerster
and Whiteson, ICML 2018).

Each agent acts epsilon-greedily on its own Q_i(o_i, .), IQL's shared `IndependentQNetwork`; a
mixing network combines the agents' Q values into a team value, monotonic in every Q_i, so
that the agents' greedy actions are the greedy joint action of Q_tot (the paper's eq. 4-5):

  Q_tot(s, Q_1..Q_N) = w2(s)^T elu(W1(s)^T q + b1(s)) + V(s)
  W1(s) = |hyper_w1(s)|  [N, E]     w2(s) = |hyper_w2(s)|  [E]
  b1(s) = linear in s    [E]        V(s)  = Dense(E, relu) -> Dense(1)

hyper_w1 and hyper_w2 are two-layer MLPs (`hypernet_units` wide, relu), as pymarl's
`hypernet_layers=2`; the absolute values make every weight from q to Q_tot non-negative,
hence dQ_tot / dQ_i >= 0. The mixer is trained with the agent network, on the team reward:

  r_tot = sum_i w_i r_i                   w_i = 0 for agents of groups with a fixed policy
  done  = max_i done_i                    (in the environments here every agent's episode ends
                                           at the same step, so any agent's done is the team's)
  y     = r_tot + gamma (1 - done) Q_tot_target(s', Q_target,i(o'_i, argmax_a Q_i(o'_i, a)))
  L     = mean over the batch of (Q_tot(s, Q_i(o_i, a_i)) - y)^2

where the Q values of fixed-policy agents enter both mixers as 0, and the next actions are
the online agent network's greedy actions valued by the target agent network and target mixer
(double-Q, as pymarl's `double_q`).

Departure from the paper: the hypernetworks read the environment's true global state, which
a PettingZoo environment does not provide here. The state is instead built from the agents'
observations, at a fixed size whatever N:

  s = [mean_i e(o_i), max_i e(o_i)],   e = Dense(hypernet_units, relu), learned with the mixer

pooled over each sample's agents (one GraphTensor component per sample). The mixer's N (the
rows of W1) is the environment's number of agents, fixed when the agent is built.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf
import tensorflow_gnn as tfgnn

from keras_ip._checks import check_int
from keras_ip.baselines.common import EpsilonGreedyAgent, QLearner, config_params
from keras_ip.baselines.config import QMIXConfig
from keras_ip.baselines.networks import EpsilonGreedy, IndependentQNetwork, _dense
from keras_ip.graphs.tensor import AGENTS, GROUP, graph_tensor
from keras_ip.graphs.topology import empty
from keras_ip.layers.base import encode_states, make_encoder
from keras_ip.learner_base import copy_weights, rewards_and_dones
from keras_ip.sac.losses import td_target


def monotonic_mix(agent_qs, w1, b1, w2, v):
    """Q_tot = w2^T elu(W1^T q + b1) + V, per sample (module docstring).

    Args:
      agent_qs: [B, N] q. w1: [B, N, E], non-negative. b1: [B, E]. w2: [B, E], non-negative. v: [B].
    Returns:
      Q_tot [B].
    """
    hidden = _elu(tf.einsum("bn,bne->be", agent_qs, w1) + b1)                       # [B, E]
    return tf.reduce_sum(hidden * w2, axis=-1) + v


def _elu(x):
    """elu(x) = x for x > 0, exp(x) - 1 otherwise. (tf.nn.elu after this layer's ops makes
    TF 2.21's grappler log errors about an "Elu" node it fused and then cannot import.)"""
    return tf.where(x > 0, x, tf.math.expm1(tf.minimum(x, 0.0)))


def team_rewards_and_dones(rewards, dones, num_agents: int, weights=None):
    """r_tot = sum_i w_i r_i and done = max_i done_i over each sample's agents.

    Args:
      rewards, dones: [B * N], sample-major (agents b * N ... b * N + N - 1 are sample b's).
      num_agents: N.
      weights: optional [B * N], 0 for agents whose reward is not the team's (fixed policies).
    Returns:
      (r_tot [B], done [B]).
    """
    if weights is not None:
        rewards = rewards * weights
    return (tf.reduce_sum(tf.reshape(rewards, [-1, num_agents]), axis=-1),
            tf.reduce_max(tf.reshape(dones, [-1, num_agents]), axis=-1))


def qmix_loss(q_tot, team_rewards, team_dones, next_q_tot, gamma):
    """mean_b (Q_tot(s_b, q_b) - y_b)^2 with y = r_tot + gamma (1 - done) Q_tot_target(s', q') (no gradient).

    Args:
      q_tot: [B] at the replayed actions. team_rewards, team_dones: [B].
      next_q_tot: [B], the target mixer's value of the double-Q next actions. gamma: discount.
    Returns:
      scalar.
    """
    return tf.reduce_mean(tf.square(q_tot - td_target(team_rewards, team_dones, next_q_tot, gamma)))


@tf.keras.utils.register_keras_serializable(package="keras_ip")
class QMixer(tf.keras.Model):
    """QMIX's mixing network with its hypernetworks, on a state pooled from the observations
    (module docstring).

    Init args:
      num_agents: N, the agents of every sample (the rows of W1).
      embed_dim: E, the mixing network's hidden width.
      hypernet_units: width of the hypernetworks' hidden layer and of the agent embedding e.
      num_groups: agent groups, each with its own embedding layer.
    Call args:
      graph: `tfgnn.GraphTensor` of B joint observations (B components of N agents).
      agent_qs: [B * N] each agent's Q value.
    Call returns:
      Q_tot [B].
    """

    def __init__(self, num_agents: int, embed_dim: int = 32, hypernet_units: int = 64, num_groups: int = 1,
                 **kwargs):
        super().__init__(**kwargs)
        self.num_agents = check_int("num_agents", num_agents)
        self.embed_dim = check_int("embed_dim", embed_dim)
        self.hypernet_units = check_int("hypernet_units", hypernet_units)
        self.num_groups = check_int("num_groups", num_groups)
        self.embedding = make_encoder(self.hypernet_units, 1, self.num_groups, _dense)
        self.hyper_w1 = [_dense(self.hypernet_units, "relu", "hyper_w1_hidden"),
                         _dense(self.num_agents * self.embed_dim, None, "hyper_w1")]
        self.hyper_w2 = [_dense(self.hypernet_units, "relu", "hyper_w2_hidden"),
                         _dense(self.embed_dim, None, "hyper_w2")]
        self.hyper_b1 = _dense(self.embed_dim, None, "hyper_b1")
        self.value = [_dense(self.embed_dim, "relu", "value_hidden"), _dense(1, None, "value")]

    def state(self, graph: tfgnn.GraphTensor):
        """s = [mean_i e(o_i), max_i e(o_i)] over each component's agents, [B, 2 * hypernet_units]."""
        e = encode_states(graph, self.embedding)                                        # [B * N, units]
        pool = lambda reduce_type: tfgnn.pool_nodes_to_context(graph, AGENTS, reduce_type,  # noqa: E731
                                                                 feature_value=e)      # [B, units]
        return tf.concat([pool("mean"), pool("max")], axis=-1)

    def call(self, graph: tfgnn.GraphTensor, agent_qs):
        s = self.state(graph)                                                           # [B, 2 * units]
        w1 = tf.abs(_mlp(self.hyper_w1, s))                                             # [B, N * E]
        w2 = tf.abs(_mlp(self.hyper_w2, s))                                             # [B, E]
        v = _mlp(self.value, s)[:, 0]                                                   # [B]
        return monotonic_mix(tf.reshape(agent_qs, [-1, self.num_agents]),
                             tf.reshape(w1, [-1, self.num_agents, self.embed_dim]), self.hyper_b1(s), w2, v)

    def get_config(self):
        return dict(super().get_config(), num_agents=self.num_agents, embed_dim=self.embed_dim,
                    hypernet_units=self.hypernet_units, num_groups=self.num_groups)


def _mlp(layers, x):
    for layer in layers:
        x = layer(x)
    return x


@tf.keras.utils.register_keras_serializable(package="keras_ip")
class QMIXNetwork(tf.keras.Model):
    """The agent Q network and the mixer in one model, so that one optimiser, one Polyak target
    update and one checkpoint cover both. Acting reads `agent_network` alone.

    Init args:
      num_agents: N. num_actions, units, encoder_layers, num_groups, group_num_actions: of the
        agent network (`IndependentQNetwork`). embed_dim, hypernet_units: of the `QMixer`.
    Attributes:
      agent_network: the shared `IndependentQNetwork`. mixer: the `QMixer`.
    Call args:
      graph: `tfgnn.GraphTensor` of B joint observations.
      actions: float [B * N, A], one-hot actions (a_i).
      agent_weights: optional [B * N], 0 for agents whose Q enters the mixer as 0.
    Call returns:
      Q_tot(s, Q_1(o_1, a_1), ..., Q_N(o_N, a_N)) [B].
    """

    def __init__(self, num_agents: int, num_actions: int, units: int = 128, encoder_layers: int = 1,
                 num_groups: int = 1, group_num_actions=None, embed_dim: int = 32, hypernet_units: int = 64,
                 **kwargs):
        super().__init__(**kwargs)
        self.agent_network = IndependentQNetwork(num_actions, units, encoder_layers, num_groups, group_num_actions,
                                                 name="agent_network")
        self.mixer = QMixer(num_agents, embed_dim, hypernet_units, num_groups, name="mixer")
        self.num_agents, self.num_actions = self.mixer.num_agents, self.agent_network.num_actions

    def call(self, graph: tfgnn.GraphTensor, actions, agent_weights=None):
        agent_qs = tf.reduce_sum(self.agent_network(graph) * actions, axis=-1)       # [B * N]
        if agent_weights is not None:
            agent_qs = agent_qs * agent_weights
        return self.mixer(graph, agent_qs)

    def get_config(self):
        agent, mixer = self.agent_network, self.mixer
        return dict(super().get_config(), num_agents=self.num_agents, num_actions=self.num_actions,
                    units=agent.units, encoder_layers=agent.encoder_layers, num_groups=agent.num_groups,
                    group_num_actions=agent.action_spec.group_num_actions, embed_dim=mixer.embed_dim,
                    hypernet_units=mixer.hypernet_units)


class QMIXLearner(QLearner):
    """The QMIX update (module docstring). Metrics: q_loss (the TD loss of Q_tot), q_tot (its mean
    at the replayed actions).

    Init args: as for `QLearner`, with `network` and `target_network` `QMIXNetwork`s.
    """

    def loss(self, batch):
        graph, next_graph = self.transition_graphs(batch)
        rewards, dones = rewards_and_dones(batch)                                       # [B * N] each
        weights = self.agent_weights(batch)                                             # [B * N] or None
        team_rewards, team_dones = team_rewards_and_dones(rewards, dones, self.network.num_agents, weights)  # [B]
        num_actions = self.network.num_actions
        actions = tf.one_hot(tf.reshape(batch.actions, [-1]), num_actions)              # [B * N, A]
        next_actions = tf.one_hot(tf.argmax(self.network.agent_network(next_graph), axis=-1), num_actions)
        next_q_tot = self.target_network(next_graph, next_actions, weights)             # [B]
        q_tot = self.network(graph, actions, weights)                                   # [B]
        q_loss = qmix_loss(q_tot, team_rewards, team_dones, next_q_tot, self.gamma)
        return q_loss, {"q_loss": q_loss, "q_tot": tf.reduce_mean(q_tot)}


class QMIXAgent(EpsilonGreedyAgent):
    """QMIX (module docstring): decentralised epsilon-greedy agents on a shared Q_i(o_i, .),
    trained through a monotonic mixer on the team reward.

    Example:
      >>> agent = QMIXAgent("coordination", units=64, batch_size=256, learning_starts=256,
      ...                   exploration_steps=2000, seed=0)
      >>> agent.fit(steps=3000).evaluate(episodes=20)   # greedy team return (optimum 0)

    Init args:
      env, env_kwargs: as for `QAgent`. Every other argument: a field of `QMIXConfig`.

    Attributes:
      exploration_rate: epsilon at the current step (see `EpsilonGreedyAgent`).
    """

    config_class = QMIXConfig
    algorithm = "QMIX"

    def __init__(self, env, graph="none", k=None, every=1, units=128, encoder_layers=1, learning_rate=1e-3, gamma=0.95,
                 tau=0.01, batch_size=1024, buffer_size=1_000_000, learning_starts=1000, train_freq=8, gradient_steps=8,
                 jit_compile=True, n_envs=1, collector="local", replay_dtype="float32", replay_on_device=False,
                 seed=None, target_update_interval=1,
                 epsilon_start=1.0, epsilon_end=0.05, exploration_steps=10_000, mixing_embed_dim=32, hypernet_units=64,
                 env_kwargs=None, train_groups=None, fixed_policies=None):
        super().__init__(env, env_kwargs, train_groups, fixed_policies, **config_params(QMIXConfig, locals()))

    def _build_learner(self):
        c, a = self.config, self.adapter
        make = lambda: QMIXNetwork(a.num_agents, a.num_actions, c.units, c.encoder_layers, a.num_groups,  # noqa: E731
                                   tuple(a.group_num_actions), c.mixing_embed_dim, c.hypernet_units)
        network, target = make(), make()
        groups = {GROUP: a.group_ids.astype(np.int32)} if a.num_groups > 1 else {}
        dummy = graph_tensor(np.zeros((a.num_agents, a.obs_dim), np.float32), empty(a.num_agents), **groups)
        for model in (network, target):  # builds the mixer for N agents
            model(dummy, tf.zeros([a.num_agents, a.num_actions]))
        copy_weights(target, network)
        self.networks = (network, target)
        self.learner = QMIXLearner(network, target, self.graph, **self._learner_kwargs())
        self.policy = EpsilonGreedy(network.agent_network)
