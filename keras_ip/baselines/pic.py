"""PIC: MADDPG with a permutation-invariant critic (Liu, Kumar, Ba, Kiros and Swersky, CoRL 2019),
with discrete actions through the Gumbel-softmax.

Networks (each shared by all agents; with agent groups the first encoder layer is per group):

  actor   pi(a_i | o_i) = softmax(l_i),  l_i = W_pi MLP(o_i) + b_pi          [nodes, A] logits
  critic  Q(o_1..o_N, a_1..a_N), one scalar per joint state:
            h_i^0     = MLP([o_i, a_i])                                       [nodes, units]
            h_i^{l+1} = relu(W_self^l h_i^l + W_all^l mean_{j=1..N} h_j^l + b^l)   l < critic_layers
            Q         = w_q relu(W_r [mean_i h_i^L, max_i h_i^L] + b_r) + b_q      [batch]

The critic is PIC's "permutation invariant critic" with mean pooling: a graph convolutional
network on the complete graph of the sample's N agents (self-loops included, mean aggregation),
then a mean and max readout. Permuting the agents (observations and actions together) permutes
the h_i and leaves every mean and max, hence Q, unchanged. The complete graph is implicit: the
mean over a sample's agents is a pool over its component of the batched GraphTensor (O(N) per
sample, no N x N adjacency), so PIC ignores the agent graph, and its default graph is "none".

Updates, on the team reward r = sum_{i learning} r_i (agents of fixed-policy groups excluded)
and done = max_i done_i (any agent done), in MADDPG's order (critic, then actor against the
updated critic, then the Polyak update of both targets):

  a'_j = onehot(argmax(l'_j + g'_j)),  l'_j = pi_target logits at o'_j   (Gumbel-max sample)
  y    = r + gamma (1 - done) Q_target(o', a')                            (no gradient)
  L_Q  = mean_b (Q(o, a) - y)^2                                           `critic_loss`
  a~_j = ST-GumbelSoftmax(l_j, g_j, T) for learning agents, the replayed a_j for the others
  L_pi = -mean_b Q(o, a~) + 1e-3 mean(l^2)                                `policy_loss`

ST-GumbelSoftmax is `keras_ip.layers.heads.straight_through_gumbel_softmax`: forward an exact
one-hot sample of softmax(l), backward the gradient of softmax((l + g) / T), T the
`gumbel_temperature`. The logits penalty 1e-3 mean(l^2) is MADDPG's code's (`p_reg`), taken
over the valid logits of learning agents. Acting samples from softmax(l) (MADDPG's discrete
actors are stochastic); `predict(deterministic=True)` and `export` take argmax l.

Where this departs from PIC / MADDPG:
  - the critic encodes [o_i, a_i] with an MLP (`encoder_layers`, per-group first layer) before
    the graph convolutions, which PIC feeds x_i to directly; it is how groups with different
    observation layouts share one critic;
  - one actor shared by all agents (MADDPG trains one per agent), so one actor loss replaces
    every learning agent's action by its sample at once, where MADDPG's loss of agent i
    replaces a_i only and keeps the others' replayed actions;
  - one critic and its target, as in both papers (no twin critics);
  - a fixed-policy agent's next action a'_j is a uniform sample over its group's actions: the
    replay holds no next actions and fixed policies run outside the compiled step, so this is
    exact for the default "random" fixed policy and an approximation for any other.
"""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

import tensorflow as tf
import tensorflow_gnn as tfgnn

from keras_ip._checks import check_int
from keras_ip.baselines.common import QAgent, build_pair, config_params
from keras_ip.baselines.config import BaselineConfig, _positive_int
from keras_ip.baselines.networks import _dense
from keras_ip.config import _is_number, _require
from keras_ip.graphs.tensor import AGENTS, HIDDEN_STATE
from keras_ip.layers.base import encode_states, make_encoder
from keras_ip.layers.heads import CategoricalHead, straight_through_gumbel_softmax
from keras_ip.learner_base import LearnerBase, polyak_update
from keras_ip.networks import INVALID_SCORE, ActionSpec
from keras_ip.sac.losses import td_target
from keras_ip.sac.policy import policy_noise

LOGITS_COEFFICIENT = 1e-3  # MADDPG's p_reg weight


# ----------------------------------------------------------------------------- losses
def team_rewards_and_dones(rewards, dones, trained_weights=None):
    """r_b = sum_i w_i r_bi (w_i = 0 for agents of fixed-policy groups) and done_b = max_i done_bi.

    Args:
      rewards, dones: float [B, N]. trained_weights: float [N], or None when every agent learns.
    Returns:
      (r [B], done [B]), float32.
    """
    rewards = tf.cast(rewards, tf.float32)
    if trained_weights is not None:
        rewards = rewards * tf.cast(trained_weights, tf.float32)[None, :]       # [B, N]
    return tf.reduce_sum(rewards, axis=1), tf.reduce_max(tf.cast(dones, tf.float32), axis=1)


def critic_loss(q, q_target):
    """L_Q = mean_b (Q(o, a) - y)^2. q: [B] at the replayed joint actions; q_target: [B] from `td_target`."""
    return tf.reduce_mean(tf.square(q - q_target))


def joint_actions(sampled, replayed, weights=None):
    """a~: the sampled actions of learning agents, the replayed ones of the others.

    Args:
      sampled, replayed: [nodes, A] (one-hot or relaxed). weights: [nodes], 0 for agents of
        fixed-policy groups, or None when every agent learns.
    Returns:
      [nodes, A].
    """
    if weights is None:
        return sampled
    return tf.where(weights[:, None] > 0, sampled, replayed)


def logits_penalty(logits, weights=None):
    """mean(l^2) over the valid logits (not `INVALID_SCORE`) of the agents with weight > 0.

    Args:
      logits: [nodes, A]. weights: [nodes], or None when every agent learns.
    Returns:
      scalar.
    """
    valid = tf.cast(logits > INVALID_SCORE / 2, logits.dtype)                  # [nodes, A]
    if weights is not None:
        valid = valid * tf.cast(weights > 0, logits.dtype)[:, None]
    return tf.reduce_sum(valid * tf.square(tf.where(valid > 0, logits, 0.0))) / tf.reduce_sum(valid)


def policy_loss(q_pi, logits, weights=None, coefficient=LOGITS_COEFFICIENT):
    """L_pi = -mean_b Q(o, a~) + coefficient * mean(l^2) (MADDPG's actor loss and logits penalty).

    Args:
      q_pi: [B] critic at the joint actions of `joint_actions`, differentiable in them.
      logits: [nodes, A] the actor's logits at o. weights: [nodes] or None, as for `logits_penalty`.
      coefficient: weight of the penalty (MADDPG's 1e-3).
    Returns:
      scalar.
    """
    return -tf.reduce_mean(q_pi) + coefficient * logits_penalty(logits, weights)


# ----------------------------------------------------------------------------- networks
@tf.keras.utils.register_keras_serializable(package="keras_ip")
class PICActor(tf.keras.Model):
    """The decentralised actor: logits l_i = W_pi MLP(o_i) + b_pi; it reads no graph.

    Example:
      >>> graph = keras_ip.graphs.GraphBatcher(keras_ip.graphs.empty(3))(tf.zeros([2, 3, 4]))
      >>> PICActor(num_actions=3, units=8)(graph).shape    # 2 samples of 3 agents
      TensorShape([6, 3])

    Init args:
      num_actions: A. units: encoder width. encoder_layers: encoder depth.
      num_groups: agent groups, each with its own first encoder layer.
      group_num_actions: each group's action count when they differ (`ActionSpec`).
    Call args:
      graph: `tfgnn.GraphTensor` of joint observations (only its node features are read).
    Call returns:
      logits [nodes, A], the actions an agent's group lacks at `INVALID_SCORE`.
    """

    def __init__(self, num_actions: int, units: int = 128, encoder_layers: int = 1, num_groups: int = 1,
                 group_num_actions=None, **kwargs):
        super().__init__(**kwargs)
        self.units = check_int("units", units)
        self.encoder_layers = check_int("encoder_layers", encoder_layers)
        self.num_groups = check_int("num_groups", num_groups)
        self.action_spec = ActionSpec(num_actions=check_int("num_actions", num_actions),
                                      group_num_actions=group_num_actions)
        self.encoder = make_encoder(self.units, self.encoder_layers, self.num_groups, _dense)
        self.head = CategoricalHead(num_actions, name="head")

    def call(self, graph: tfgnn.GraphTensor):
        logits = self.head(encode_states(graph, self.encoder, degree_input=False))  # [nodes, A]
        return self.action_spec.mask(logits, graph)

    def get_config(self):
        return dict(super().get_config(), num_actions=self.action_spec.num_actions, units=self.units,
                    encoder_layers=self.encoder_layers, num_groups=self.num_groups,
                    group_num_actions=self.action_spec.group_num_actions)


@tf.keras.utils.register_keras_serializable(package="keras_ip")
class CompleteGraphConvolution(tf.keras.layers.Layer):
    """PIC's graph convolution on the complete graph of each sample's agents, mean aggregation:
    h_i' = relu(W_self h_i + W_all mean_{j in sample(i)} h_j + b), self included in the mean.

    Init args:
      units: output width.
    Call args:
      h: float32 [nodes, d]. graph: the batched `tfgnn.GraphTensor` (one component per sample).
    Call returns:
      [nodes, units].
    """

    def __init__(self, units: int, **kwargs):
        super().__init__(**kwargs)
        self.units = check_int("units", units)
        self.self_layer = _dense(self.units, None, "self")
        self.all_layer = _dense(self.units, None, "all", use_bias=False)

    def call(self, h, graph: tfgnn.GraphTensor):
        mean = tfgnn.pool_nodes_to_context(graph, AGENTS, "mean", feature_value=h)         # [B, d]
        mean = tfgnn.broadcast_context_to_nodes(graph, AGENTS, feature_value=mean)          # [nodes, d]
        return tf.nn.relu(self.self_layer(h) + self.all_layer(mean))

    def get_config(self):
        return dict(super().get_config(), units=self.units)


@tf.keras.utils.register_keras_serializable(package="keras_ip")
class PermutationInvariantCritic(tf.keras.Model):
    """PIC's centralised critic Q(o_1..o_N, a_1..a_N) (module docstring), one scalar per sample.

    Example:
      >>> graph = keras_ip.graphs.GraphBatcher(keras_ip.graphs.empty(3))(tf.zeros([2, 3, 4]))
      >>> PermutationInvariantCritic(units=8)(graph, tf.one_hot([0, 1, 2, 0, 1, 2], 3)).shape
      TensorShape([2])

    Init args:
      units: width of every layer. critic_layers: graph convolutions L (>= 1).
      encoder_layers: depth of the MLP on [o_i, a_i]. num_groups: agent groups, each with its
        own first encoder layer.
    Call args:
      graph: batched `tfgnn.GraphTensor` of joint observations, one component per sample.
      actions: float32 [nodes, A], one-hot (or relaxed) actions a_i.
    Call returns:
      Q [B].
    """

    def __init__(self, units: int = 128, critic_layers: int = 2, encoder_layers: int = 1, num_groups: int = 1,
                 **kwargs):
        super().__init__(**kwargs)
        self.units = check_int("units", units)
        self.critic_layers = check_int("critic_layers", critic_layers)
        self.encoder_layers = check_int("encoder_layers", encoder_layers)
        self.num_groups = check_int("num_groups", num_groups)
        self.encoder = make_encoder(self.units, self.encoder_layers, self.num_groups, _dense)
        self.convolutions = [CompleteGraphConvolution(self.units, name=f"convolution_{l}")
                             for l in range(self.critic_layers)]
        self.readout = _dense(self.units, "relu", "readout")
        self.q_head = _dense(1, None, "q")

    def call(self, graph: tfgnn.GraphTensor, actions):
        agents = graph.node_sets[AGENTS]
        inputs = tf.concat([agents[HIDDEN_STATE], tf.cast(actions, tf.float32)], axis=-1)  # [nodes, d + A]
        h = encode_states(graph.replace_features(node_sets={AGENTS: dict(agents.features, **{HIDDEN_STATE: inputs})}),
                          self.encoder)                                                    # [nodes, units]
        for convolution in self.convolutions:
            h = convolution(h, graph)
        pooled = [tfgnn.pool_nodes_to_context(graph, AGENTS, reduce, feature_value=h) for reduce in ("mean", "max")]
        return tf.squeeze(self.q_head(self.readout(tf.concat(pooled, axis=-1))), axis=-1)  # [B]

    def get_config(self):
        return dict(super().get_config(), units=self.units, critic_layers=self.critic_layers,
                    encoder_layers=self.encoder_layers, num_groups=self.num_groups)


class PICNetworks(NamedTuple):
    """The actor and critic and their Polyak targets."""

    actor: PICActor
    critic: PermutationInvariantCritic
    target_actor: PICActor
    target_critic: PermutationInvariantCritic


# ----------------------------------------------------------------------------- learner
class PICLearner(LearnerBase):
    """Adam on the actor and on the critic, the Polyak targets of both, and the compiled update
    (module docstring). `train_step(batch)` returns critic_loss, policy_loss and q (mean Q(o, a)).

    Init args:
      networks: `PICNetworks` (built, targets equal to their networks).
      graph, group_ids, trained_weights: as for `LearnerBase`.
      learning_rate, gamma, tau, target_update_interval: see `BaselineConfig` (tau moves both targets).
      gumbel_temperature: T of the straight-through Gumbel-softmax of the actor loss.
      logits_coefficient: weight of the logits penalty (MADDPG's 1e-3).
      jit_compile: compile the update with XLA. seed: seeds the Gumbel noise (None: unseeded).
    """

    def __init__(self, networks: PICNetworks, graph, *, group_ids=None, learning_rate: float = 1e-3,
                 gamma: float = 0.95, tau: float = 0.01, target_update_interval: int = 1,
                 gumbel_temperature: float = 1.0, logits_coefficient: float = LOGITS_COEFFICIENT,
                 jit_compile: bool = True, seed=None, trained_weights=None):
        super().__init__(graph, group_ids, trained_weights)
        self.networks = networks
        self.action_spec = networks.actor.action_spec
        self.gamma = tf.Variable(float(gamma), trainable=False, name="gamma")
        self.tau = tf.Variable(float(tau), trainable=False, name="tau")
        self.target_update_interval = check_int("target_update_interval", target_update_interval)
        self.gumbel_temperature = float(gumbel_temperature)
        self.logits_coefficient = float(logits_coefficient)
        self.updates = tf.Variable(0, dtype=tf.int64, trainable=False, name="updates")
        self.generator = (tf.random.Generator.from_seed(seed) if seed is not None
                          else tf.random.Generator.from_non_deterministic_state())
        self.actor_optimizer = tf.keras.optimizers.Adam(learning_rate)
        self.critic_optimizer = tf.keras.optimizers.Adam(learning_rate)
        self.actor_optimizer.build(networks.actor.trainable_variables)  # slots exist before the compiled step
        self.critic_optimizer.build(networks.critic.trainable_variables)
        self.train_step = tf.function(self._train_step, jit_compile=jit_compile)

    def _train_step(self, batch):
        nets, spec = self.networks, self.action_spec
        graph, next_graph = self.transition_graphs(batch)
        rewards, dones = team_rewards_and_dones(batch.rewards, batch.dones, self.trained_weights)  # [B] each
        weights = self.agent_weights(batch)                                                    # [nodes] or None
        replayed = tf.one_hot(tf.reshape(batch.actions, [-1]), spec.num_actions)              # [nodes, A]
        num_nodes = tf.shape(replayed)[0]
        next_noise, noise = (policy_noise(self.generator, num_nodes, spec) for _ in range(2))  # [nodes, A] each

        next_logits = nets.target_actor(next_graph)                                            # [nodes, A]
        if weights is not None:  # fixed-policy agents: uniform over their group's actions
            next_logits = tf.where(weights[:, None] > 0, next_logits, spec.mask(tf.zeros_like(next_logits), next_graph))
        next_actions = straight_through_gumbel_softmax(next_logits, next_noise, self.gumbel_temperature)
        q_target = td_target(rewards, dones, nets.target_critic(next_graph, next_actions), self.gamma)  # [B]

        critic_variables, actor_variables = nets.critic.trainable_variables, nets.actor.trainable_variables
        with tf.GradientTape() as tape:
            q = nets.critic(graph, replayed)                                                   # [B]
            q_loss = critic_loss(q, q_target)
        self.critic_optimizer.apply_gradients(zip(tape.gradient(q_loss, critic_variables), critic_variables))

        with tf.GradientTape() as tape:
            logits = nets.actor(graph)                                                         # [nodes, A]
            sampled = straight_through_gumbel_softmax(logits, noise, self.gumbel_temperature)
            q_pi = nets.critic(graph, joint_actions(sampled, replayed, weights))               # [B]
            pi_loss = policy_loss(q_pi, logits, weights, self.logits_coefficient)
        self.actor_optimizer.apply_gradients(zip(tape.gradient(pi_loss, actor_variables), actor_variables))

        self.updates.assign_add(1)
        due = tf.cast(self.updates % self.target_update_interval == 0, tf.float32)
        for target, source in ((nets.target_actor, nets.actor), (nets.target_critic, nets.critic)):
            polyak_update(target.variables, source.variables, due * self.tau)
        return {"critic_loss": q_loss, "policy_loss": pi_loss, "q": tf.reduce_mean(q)}

    def checkpoint_objects(self) -> dict:
        """Everything a `tf.train.Checkpoint` must hold to resume training exactly."""
        return dict(self.networks._asdict(), actor_optimizer=self.actor_optimizer,
                    critic_optimizer=self.critic_optimizer, updates=self.updates, generator=self.generator)


# ----------------------------------------------------------------------------- estimator
@dataclasses.dataclass
class PICConfig(BaselineConfig):
    """Hyperparameters of `PICAgent` (same names, same defaults).

    Attributes (besides `BaselineConfig`'s, which mean the same; tau moves both targets):
      graph: "none" by default (an edgeless graph): PIC's critic works on the complete graph of
        the agents implicitly and its actor reads no graph, so the agent graph is never read.
      critic_layers: graph convolutions of the permutation-invariant critic (PIC: 2).
      gumbel_temperature: T of the straight-through Gumbel-softmax sample in the actor loss.
    """

    graph: Any = "none"
    critic_layers: int = 2
    gumbel_temperature: float = 1.0

    def validate(self):
        super().validate()
        _require("critic_layers", self.critic_layers, _positive_int, "an integer >= 1")
        _require("gumbel_temperature", self.gumbel_temperature, lambda v: _is_number(v) and v > 0,
                 "a positive number")


class PICAgent(QAgent):
    """MADDPG with PIC's permutation-invariant critic on discrete-action agents (module docstring).

    Example:
      >>> agent = PICAgent("coordination", units=64, batch_size=256, learning_starts=256, seed=0)
      >>> agent.fit(steps=3000).evaluate(episodes=20)   # greedy team return (optimum 0)

    Init args:
      env, env_kwargs, train_groups, fixed_policies: as for `QAgent`. Every other argument: a
      field of `PICConfig`.

    `fit` and `predict(deterministic=False)` sample from softmax(l_i);
    `predict(deterministic=True)` and `export` take argmax l_i.
    """

    config_class = PICConfig
    algorithm = "PIC"

    def __init__(self, env, graph="none", k=None, every=1, units=128, encoder_layers=1, learning_rate=1e-3, gamma=0.95,
                 tau=0.01, batch_size=1024, buffer_size=1_000_000, learning_starts=1000, train_freq=8, gradient_steps=8,
                 jit_compile=True, n_envs=1, collector="local", replay_dtype="float32", replay_on_device=False,
                 seed=None, target_update_interval=1,
                 critic_layers=2, gumbel_temperature=1.0, env_kwargs=None, train_groups=None, fixed_policies=None):
        super().__init__(env, env_kwargs, train_groups, fixed_policies, **config_params(PICConfig, locals()))

    def _build_learner(self):
        c, a = self.config, self.adapter
        actor, target_actor = build_pair(lambda: PICActor(a.num_actions, c.units, c.encoder_layers, a.num_groups,
                                                          tuple(a.group_num_actions)), a.obs_dim, a.num_groups)
        critic, target_critic = build_pair(lambda: PermutationInvariantCritic(c.units, c.critic_layers,
                                                                              c.encoder_layers, a.num_groups),
                                           a.obs_dim, a.num_groups, tf.zeros([2, a.num_actions]))
        self.networks = PICNetworks(actor, critic, target_actor, target_critic)
        self.learner = PICLearner(self.networks, self.graph, gumbel_temperature=c.gumbel_temperature,
                                  seed=None if c.seed is None else c.seed + 1, **self._learner_kwargs())
        self.policy = actor
