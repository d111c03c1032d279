"""IQL, independent Q-learning (Tan 1993) with deep Q networks: every agent learns its own
Q_i(o_i, a_i) from its own reward, treating the other agents as part of the environment.

One Q network (`IndependentQNetwork`) is shared by all agents and reads only o_i; the target
is double-Q (van Hasselt, Guez and Silver 2016): the online network picks the next action,
the target network values it,

  y_i = r_i + gamma (1 - done_i) Q_target(o'_i, argmax_a Q(o'_i, a))
  L   = E[(Q(o_i, a_i) - y_i)^2]

the mean over the batch's agents, weighted with the learner's agent weights (agents of groups
with a fixed policy have weight 0). Actions are epsilon-greedy. Nothing reads an edge, so the
agent's graph is "none" (an edgeless graph) by default; any other graph gives the same Q values.
"""

from __future__ import annotations

import tensorflow as tf

from keras_ip.baselines import losses
from keras_ip.baselines.common import EpsilonGreedyAgent, QLearner, build_pair, config_params
from keras_ip.baselines.config import IQLConfig
from keras_ip.baselines.networks import EpsilonGreedy, IndependentQNetwork
from keras_ip.learner_base import rewards_and_dones
from keras_ip.sac.losses import agent_mean, td_target


def double_q_value(next_q, next_q_target):
    """Q_target(o', argmax_a Q(o', a)): the target network's value of the online network's greedy
    action (actions a group lacks are never greedy: their Q is `INVALID_SCORE`). No gradient.

    Args:
      next_q: [nodes, A] online Q at o'. next_q_target: [nodes, A] target Q at o'.
    Returns:
      [nodes].
    """
    greedy = tf.argmax(next_q, axis=-1, output_type=tf.int32)                       # [nodes]
    return tf.stop_gradient(tf.gather(next_q_target, greedy[:, None], batch_dims=1)[:, 0])


def iql_loss(q_taken, rewards, dones, next_q, next_q_target, gamma, weights=None):
    """E[(Q(o_i, a_i) - y_i)^2] with the double-Q target y_i (module docstring).

    Args:
      q_taken: [nodes] Q(o_i, a_i) at the replayed actions.
      rewards, dones: [nodes] r_i and done_i.
      next_q, next_q_target: [nodes, A] online and target Q at o'.
      gamma: discount.
      weights: optional [nodes] agent weights (0 for agents that do not learn).
    Returns:
      scalar.
    """
    q_target = td_target(rewards, dones, double_q_value(next_q, next_q_target), gamma)  # [nodes]
    return losses.q_loss(q_taken, q_target, weights)


class IQLLearner(QLearner):
    """The IQL update (module docstring). Metrics: q_loss, q (mean Q at the replayed actions).

    Init args: as for `QLearner`.
    """

    def loss(self, batch):
        graph, next_graph = self.transition_graphs(batch)
        rewards, dones = rewards_and_dones(batch)                                       # [B * N] each
        actions = tf.one_hot(tf.reshape(batch.actions, [-1]), self.network.num_actions)  # [B * N, A]
        q_taken = tf.reduce_sum(self.network(graph) * actions, axis=-1)                 # [B * N]
        weights = self.agent_weights(batch)
        q_loss = iql_loss(q_taken, rewards, dones, self.network(next_graph), self.target_network(next_graph),
                          self.gamma, weights)
        return q_loss, {"q_loss": q_loss, "q": agent_mean(q_taken, weights)}


class IQLAgent(EpsilonGreedyAgent):
    """Independent double-Q learning (IQL) with one Q network shared by discrete-action agents.

    Example:
      >>> agent = IQLAgent("coordination", units=64, batch_size=256, learning_starts=256,
      ...                  exploration_steps=2000, seed=0)
      >>> agent.fit(steps=3000).evaluate(episodes=20)   # greedy team return (optimum 0)

    Init args:
      env, env_kwargs: as for `QAgent`. Every other argument: a field of `IQLConfig`.

    Attributes:
      exploration_rate: epsilon at the current step (see `EpsilonGreedyAgent`).
    """

    config_class = IQLConfig
    algorithm = "IQL"

    def __init__(self, env, graph="none", k=None, every=1, units=128, encoder_layers=1, learning_rate=1e-3, gamma=0.95,
                 tau=0.01, batch_size=1024, buffer_size=1_000_000, learning_starts=1000, train_freq=8, gradient_steps=8,
                 jit_compile=True, n_envs=1, collector="local", replay_dtype="float32", replay_on_device=False,
                 seed=None, target_update_interval=1,
                 epsilon_start=1.0, epsilon_end=0.05, exploration_steps=10_000,
                 env_kwargs=None, train_groups=None, fixed_policies=None):
        super().__init__(env, env_kwargs, train_groups, fixed_policies, **config_params(IQLConfig, locals()))

    def _build_learner(self):
        c, a = self.config, self.adapter
        self.networks = build_pair(lambda: IndependentQNetwork(a.num_actions, c.units, c.encoder_layers, a.num_groups,
                                                               tuple(a.group_num_actions)), a.obs_dim, a.num_groups)
        self.learner = IQLLearner(*self.networks, self.graph, **self._learner_kwargs())
        self.policy = EpsilonGreedy(self.networks[0])
