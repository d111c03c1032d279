"""What the Q-learning baselines share: the learner (optimiser, target network, compiled
step) and the estimator part (discrete-action check, acting through a policy wrapper, and
for DGN, IQL and QMIX epsilon-greedy acting with a linearly decaying epsilon).
"""

from __future__ import annotations

import abc
import dataclasses

import tensorflow as tf

from keras_ip._checks import check_int
from keras_ip.baselines import losses
from keras_ip.estimator import Estimator
from keras_ip.graphs.topology import Graph
from keras_ip.learner_base import LearnerBase, build_on_dummy_graph, copy_weights, polyak_update


class QLearner(LearnerBase, abc.ABC):
    """Adam on one Q network shared by all agents, and its target copy.

    After every update, every `target_update_interval`-th update moves the target a
    fraction `tau` towards the online network (tau=1: a periodic copy). A subclass
    implements `loss(batch) -> (scalar loss, dict of scalar metrics)`.

    Init args:
      network: the online Q network (built). target_network: a built copy of it.
      graph: the static agent graph, or None when every batch carries per-sample graphs.
      group_ids: int [N] agent groups when there are several, else None.
      learning_rate, gamma, tau, target_update_interval: see `BaselineConfig`.
      jit_compile: compile the update with XLA.
      trained_weights: float [N], 0 for agents of groups with a fixed policy (no loss over
        their rows), or None when every agent learns.

    `train_step(batch)` takes a `keras_ip.replay.Batch` and returns the metrics of `loss`.
    """

    def __init__(self, network, target_network, graph: Graph | None, *, group_ids=None, learning_rate: float = 1e-3,
                 gamma: float = 0.95, tau: float = 0.01, target_update_interval: int = 1, jit_compile: bool = True,
                 trained_weights=None):
        super().__init__(graph, group_ids, trained_weights)
        self.network, self.target_network = network, target_network
        self.gamma = tf.Variable(float(gamma), trainable=False, name="gamma")
        self.tau = tf.Variable(float(tau), trainable=False, name="tau")
        self.target_update_interval = check_int("target_update_interval", target_update_interval)
        self.updates = tf.Variable(0, dtype=tf.int64, trainable=False, name="updates")
        self.optimizer = tf.keras.optimizers.Adam(learning_rate)
        self.optimizer.build(network.trainable_variables)  # slots exist before the first (compiled) step
        self.train_step = tf.function(self._train_step, jit_compile=jit_compile)

    @abc.abstractmethod
    def loss(self, batch):
        """(scalar loss, dict of scalar metrics) of a replayed `Batch`."""

    def _train_step(self, batch):
        with tf.GradientTape() as tape:
            loss, metrics = self.loss(batch)
        variables = self.network.trainable_variables
        self.optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        self.updates.assign_add(1)
        due = tf.cast(self.updates % self.target_update_interval == 0, tf.float32)
        # tau 0 between target updates; with tau = 1 an exact copy
        polyak_update(self.target_network.variables, self.network.variables, due * self.tau)
        return metrics

    def checkpoint_objects(self) -> dict:
        """Everything a `tf.train.Checkpoint` must hold to resume training exactly."""
        return dict(network=self.network, target_network=self.target_network, optimizer=self.optimizer,
                    updates=self.updates)


def build_pair(make, obs_dim: int, num_groups: int, *call_args):
    """(network, target) = two networks from `make()`, built on a 2-agent graph, the target a copy.

    Args:
      make: callable () -> a Keras model taking a GraphTensor (and `call_args`).
      obs_dim: per-agent observation size. num_groups: agent groups.
      call_args: the extra inputs of the build call, each for 2 agents.
    """
    network, target = make(), make()
    build_on_dummy_graph(obs_dim, num_groups, (network, *call_args), (target, *call_args))
    copy_weights(target, network)
    return network, target


class QAgent(Estimator):
    """Base of the discrete-action baselines: refuses other action spaces, acts with `self.policy`.

    A subclass sets `algorithm` (its name in messages) and implements `_build_learner()`,
    which sets `self.networks`, `self.learner` and `self.policy` (a Keras model
    GraphTensor -> action logits with an `action_spec`).

    Init args:
      env: a PettingZoo `ParallelEnv` with a Discrete action space, or a registered name.
      env_kwargs: keyword arguments for `make_env` when `env` is a name.
      Every other argument is a field of the subclass's `config_class`, documented there;
      the fields shared with `IPConfig` mean the same as for `IPAgent`.
    """

    algorithm = None

    def _check_environment(self):
        if not self.adapter.discrete:
            raise ValueError(f"{self.algorithm} needs discrete actions; {self._env_description()} has "
                             f"{self.adapter.action_space}. Received: action_space={self.adapter.action_space}")

    def _build_model(self):
        self._build_learner()
        self._build_act_functions(self.policy, self.policy.action_spec)

    @abc.abstractmethod
    def _build_learner(self):
        """Sets `self.networks`, `self.learner` and `self.policy` (see the class docstring)."""

    def _learner_kwargs(self) -> dict:
        """The `QLearner` arguments every baseline takes from its config and environment."""
        c = self.config
        return dict(group_ids=self._group_ids, learning_rate=c.learning_rate, gamma=c.gamma, tau=c.tau,
                    target_update_interval=c.target_update_interval, jit_compile=c.jit_compile,
                    trained_weights=self.group_policies.trained_weights())

    def _env_description(self) -> str:
        if self.env_name is None:
            return type(self.env).__name__
        options = ", ".join(f"{name}={value!r}" for name, value in self.env_kwargs.items())
        return f"{self.env_name} with {options}" if options else self.env_name

    @property
    def policy_network(self):
        return self.policy


class EpsilonGreedyAgent(QAgent):
    """A `QAgent` that acts epsilon-greedily on a Q network (DGN, IQL, QMIX).

    Its config has `epsilon_start`, `epsilon_end` and `exploration_steps`; its `_build_learner`
    sets `self.policy` to a `keras_ip.baselines.networks.EpsilonGreedy` of the Q network.

    Attributes:
      exploration_rate: epsilon at the current step, `losses.linear_epsilon` of the step count;
        `predict(deterministic=False)` and `fit` act epsilon-greedily with it,
        `predict(deterministic=True)` greedily.
    """

    @property
    def exploration_rate(self) -> float:
        c = self.config
        return losses.linear_epsilon(self.num_timesteps, c.epsilon_start, c.epsilon_end, c.exploration_steps)

    def _act(self, observations, deterministic, graph=None):
        self.policy.epsilon.assign(0.0 if deterministic else self.exploration_rate)
        return super()._act(observations, deterministic, graph)

    def export(self, path) -> str:
        """Writes the greedy policy as a SavedModel (see `keras_ip.export`): "actions" are
        argmax_a Q, "probabilities" their one-hot (epsilon = 0)."""
        self.policy.epsilon.assign(0.0)
        return super().export(path)


def config_params(config_class, arguments: dict) -> dict:
    """The entries of `arguments` (an `__init__`'s locals()) that are fields of `config_class`."""
    names = {field.name for field in dataclasses.fields(config_class)}
    return {name: value for name, value in arguments.items() if name in names}
