"""MF-Q, mean-field Q-learning (Yang, Luo, Li, Zhou, Zhang and Wang, ICML 2018).

Each agent's Q function sees its own state and the mean action of its graph neighbours,
Q(s_i, a_i, abar_i) with abar_i = mean_{j in N(i)} onehot(a_j), one network shared by all
agents. The policy is Boltzmann, pi(a | s_i, abar_i) = softmax(Q(s_i, ., abar_i) / T), and
each agent learns from its own reward:

  y_i = r_i + gamma (1 - done_i) v^MF(s'_i)
  v^MF(s'_i) = sum_a pi(a | s'_i, abar'_i) Q_target(s'_i, a, abar'_i)
  L = E[(Q(s_i, a_i, abar_i) - y_i)^2]

where abar_i is computed from the replayed actions and abar'_i = mean_{j in N(i)}
pi_j(. | s'_j, abar_j^0), the neighbours' current Boltzmann policies at s' (the online
network's), with abar^0 uniform (`mean_field_iterations` rounds of this). Acting uses the
same mean actions, so the policy needs no memory of earlier steps (the paper conditions
on the previous step's mean action instead).
"""

from __future__ import annotations

import tensorflow as tf

from keras_ip.baselines import losses
from keras_ip.baselines.common import QAgent, QLearner, build_pair, config_params
from keras_ip.baselines.config import MFQConfig
from keras_ip.baselines.networks import BoltzmannPolicy, MeanFieldQNetwork
from keras_ip.layers.base import GraphOps
from keras_ip.learner_base import rewards_and_dones
from keras_ip.sac.losses import agent_mean, td_target


class MFQLearner(QLearner):
    """The MF-Q update (module docstring). Metrics: q_loss, q (mean Q at the replayed
    actions), next_value (mean v^MF(s')).

    Init args:
      temperature: T of the Boltzmann policy. mean_field_iterations: rounds for abar'.
      Every other argument as for `QLearner`.
    """

    def __init__(self, network, target_network, graph, *, temperature: float = 0.1, mean_field_iterations: int = 3,
                 **kwargs):
        self.temperature = float(temperature)
        self.mean_field_iterations = int(mean_field_iterations)
        super().__init__(network, target_network, graph, **kwargs)

    def loss(self, batch):
        num_actions = self.network.num_actions
        graph, next_graph = self.transition_graphs(batch)
        rewards, dones = rewards_and_dones(batch)                                    # [B * N] each
        actions = tf.one_hot(tf.reshape(batch.actions, [-1]), num_actions)          # [B * N, A]

        next_online = self.network.encode(next_graph)                                 # [B * N, units]
        next_target = self.target_network.encode(next_graph)
        mask = lambda q: self.network.action_spec.mask(q, next_graph)  # noqa: E731  (actions a group lacks)
        online_of = lambda mean_actions: mask(self.network.q_values(next_online, mean_actions))  # noqa: E731
        target_of = lambda mean_actions: mask(self.target_network.q_values(next_target, mean_actions))  # noqa: E731
        next_mean_actions = losses.mean_field_actions(online_of, GraphOps(next_graph, "mean"), tf.shape(rewards)[0],
                                                      num_actions, self.temperature, self.mean_field_iterations)
        next_value = losses.mean_field_value(online_of, target_of, next_mean_actions, self.temperature)  # [B * N]
        q_target = td_target(rewards, dones, next_value, self.gamma)

        mean_actions = losses.neighbour_mean_action(actions, GraphOps(graph, "mean"))  # [B * N, A]
        q_taken = tf.reduce_sum(self.network(graph, mean_actions) * actions, axis=-1)   # [B * N]
        weights = self.agent_weights(batch)
        q_loss = losses.q_loss(q_taken, q_target, weights)
        return q_loss, {"q_loss": q_loss, "q": agent_mean(q_taken, weights),
                        "next_value": agent_mean(next_value, weights)}


class MFQAgent(QAgent):
    """Mean-field Q-learning (MF-Q) on discrete-action agents over the agent graph.

    Example:
      >>> agent = MFQAgent("coordination", units=64, batch_size=256, learning_starts=256, seed=0)
      >>> agent.fit(steps=3000).evaluate(episodes=20)   # greedy team return (optimum 0)
      0.0

    Init args:
      env, env_kwargs: as for `QAgent`. Every other argument: a field of `MFQConfig`.

    `predict(deterministic=True)` takes argmax_a Q(s_i, a, abar_i); deterministic=False
    samples the Boltzmann policy.
    """

    config_class = MFQConfig
    algorithm = "MFQ"

    def __init__(self, env, graph="grid", k=None, every=1, units=128, encoder_layers=1, learning_rate=1e-3, gamma=0.95,
                 tau=0.01, batch_size=1024, buffer_size=1_000_000, learning_starts=1000, train_freq=8, gradient_steps=8,
                 jit_compile=True, n_envs=1, collector="local", replay_dtype="float32", replay_on_device=False,
                 seed=None, target_update_interval=1,
                 temperature=0.1, mean_field_iterations=3, env_kwargs=None, train_groups=None, fixed_policies=None):
        super().__init__(env, env_kwargs, train_groups, fixed_policies, **config_params(MFQConfig, locals()))

    def _build_learner(self):
        c, a = self.config, self.adapter
        build_mean_actions = tf.zeros([2, a.num_actions])
        self.networks = build_pair(lambda: MeanFieldQNetwork(a.num_actions, c.units, c.encoder_layers, a.num_groups,
                                                                   tuple(a.group_num_actions)),
                                   a.obs_dim, a.num_groups, build_mean_actions)
        self.learner = MFQLearner(*self.networks, self.graph, temperature=c.temperature,
                                  mean_field_iterations=c.mean_field_iterations, **self._learner_kwargs())
        self.policy = BoltzmannPolicy(self.networks[0], c.temperature, c.mean_field_iterations)
