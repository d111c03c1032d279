"""DGN, graph convolutional reinforcement learning (Jiang, Dun, Huang and Lu, ICLR 2020).

Q-learning with one Q network shared by all agents: an observation encoder, relation
layers (multi-head attention over each agent's neighbourhood on the agent graph, itself
included) and a Q head on all their outputs. Each agent learns from its own reward:

  y_i = r_i + gamma (1 - done_i) max_a' Q_target(O'_i, a')
  L   = E[(Q(O_i, a_i) - y_i)^2] + lambda E[KL(G(O_i; theta) || G(O'_i; theta_target))]

where G is the last relation layer's attention over agent i's neighbourhood (the temporal
relation regularisation; the next state's attention is computed on the current graph, so
both are distributions over the same neighbours). Actions are epsilon-greedy.
"""

from __future__ import annotations

import tensorflow as tf

from keras_ip.baselines import losses
from keras_ip.baselines.common import EpsilonGreedyAgent, QLearner, build_pair, config_params
from keras_ip.baselines.config import DGNConfig
from keras_ip.baselines.networks import DGNNetwork, EpsilonGreedy
from keras_ip.layers.base import GraphOps
from keras_ip.learner_base import rewards_and_dones
from keras_ip.sac.losses import agent_mean, td_target


class DGNLearner(QLearner):
    """The DGN update (module docstring). Metrics: q_loss, q (mean Q at the replayed actions),
    and relation_kl when temporal_coefficient > 0.

    Init args:
      temporal_coefficient: lambda of the temporal relation regularisation (the paper's 0.03;
        0 turns it off).
      Every other argument as for `QLearner`.
    """

    def __init__(self, network, target_network, graph, *, temporal_coefficient: float = 0.03, **kwargs):
        self.temporal_coefficient = float(temporal_coefficient)
        super().__init__(network, target_network, graph, **kwargs)

    def loss(self, batch):
        graph, next_graph = self.transition_graphs(batch)
        rewards, dones = rewards_and_dones(batch)                                    # [B * N] each
        actions = tf.one_hot(tf.reshape(batch.actions, [-1]), self.network.num_actions)  # [B * N, A]
        regularised = self.temporal_coefficient > 0
        if regularised and batch.senders is None:  # a static graph: s' has the same neighbourhoods
            next_q, next_attention = self.target_network(next_graph, return_attention=True)
        else:
            next_q = self.target_network(next_graph)                                 # [B * N, A]
            if regularised:  # s' on the graph of s, so both attentions cover the same neighbours
                relation_graph = self.graph_tensor(batch.next_observations, batch.senders, batch.receivers)
                _, next_attention = self.target_network(relation_graph, return_attention=True)
        q_target = td_target(rewards, dones, tf.reduce_max(next_q, axis=-1), self.gamma)
        q, attention = self.network(graph, return_attention=True)
        q_taken = tf.reduce_sum(q * actions, axis=-1)                                # [B * N]
        weights = self.agent_weights(batch)
        q_loss = losses.q_loss(q_taken, q_target, weights)
        metrics = {"q_loss": q_loss, "q": agent_mean(q_taken, weights)}
        if not regularised:
            return q_loss, metrics
        relation_kl = losses.attention_kl(attention, tf.nest.map_structure(tf.stop_gradient, next_attention),
                                          GraphOps(graph))
        return q_loss + self.temporal_coefficient * relation_kl, dict(metrics, relation_kl=relation_kl)


class DGNAgent(EpsilonGreedyAgent):
    """DGN (graph convolutional Q-learning with relation attention) on discrete-action agents.

    Example:
      >>> agent = DGNAgent("coordination", units=64, batch_size=256, learning_starts=256,
      ...                  exploration_steps=2000, seed=0)
      >>> agent.fit(steps=3000).evaluate(episodes=20)   # greedy team return (optimum 0)
      0.0

    Init args:
      env, env_kwargs: as for `QAgent`. Every other argument: a field of `DGNConfig`.

    Attributes:
      exploration_rate: epsilon at the current step; `predict(deterministic=False)` and
        `fit` act epsilon-greedily with it, `predict(deterministic=True)` greedily.
    """

    config_class = DGNConfig
    algorithm = "DGN"

    def __init__(self, env, graph="grid", k=None, every=1, units=128, encoder_layers=1, learning_rate=1e-3, gamma=0.95,
                 tau=0.01, batch_size=1024, buffer_size=1_000_000, learning_starts=1000, train_freq=8, gradient_steps=8,
                 jit_compile=True, n_envs=1, collector="local", replay_dtype="float32", replay_on_device=False,
                 seed=None, target_update_interval=1,
                 conv_layers=2, heads=4, epsilon_start=1.0, epsilon_end=0.05, exploration_steps=10_000,
                 temporal_coefficient=0.03, env_kwargs=None, train_groups=None, fixed_policies=None):
        super().__init__(env, env_kwargs, train_groups, fixed_policies, **config_params(DGNConfig, locals()))

    def _build_learner(self):
        c, a = self.config, self.adapter
        self.networks = build_pair(lambda: DGNNetwork(a.num_actions, c.units, c.conv_layers, c.heads, c.encoder_layers,
                                                      a.num_groups, tuple(a.group_num_actions)), a.obs_dim, a.num_groups)
        self.learner = DGNLearner(*self.networks, self.graph, temporal_coefficient=c.temporal_coefficient,
                                  **self._learner_kwargs())
        self.policy = EpsilonGreedy(self.networks[0])
