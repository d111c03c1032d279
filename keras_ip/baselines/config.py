"""The hyperparameters of the DGN, MFQ, IQL and QMIX baselines, with documented defaults.

Fields they share with `keras_ip.config.IPConfig` have the same names, defaults and
meaning, and are validated by `IPConfig` itself, so a comparison can pass one set of
settings to every algorithm.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from keras_ip._checks import is_int
from keras_ip.config import IPConfig, _is_number, _require

SHARED_FIELDS = ("graph", "k", "every", "units", "encoder_layers", "learning_rate", "gamma", "tau", "batch_size",
                 "buffer_size", "learning_starts", "train_freq", "gradient_steps", "jit_compile", "n_envs",
                 "collector", "replay_dtype", "replay_on_device", "seed")


@dataclasses.dataclass
class BaselineConfig:
    """The fields every baseline shares with `IPConfig` (see its docstring for each).

    Attributes:
      graph, k, every: the agent graph ("grid", "full", "random", "knn", "none", a Graph, a KNN or a
        callable env -> Graph), neighbours for "knn"/"random", steps between k-NN rebuilds.
      units: hidden units per layer. encoder_layers: depth of the observation encoder MLP.
      learning_rate: Adam learning rate. gamma: discount.
      tau: Polyak coefficient of the target Q network (1.0 with target_update_interval > 1:
        a periodic copy).
      batch_size, buffer_size, learning_starts, train_freq, gradient_steps: as in `IPConfig`.
      jit_compile, n_envs, collector, replay_dtype, replay_on_device, seed: as in `IPConfig`.
      target_update_interval: updates between target updates (each target update moves the
        target a fraction tau towards the online network).
    """

    graph: Any = IPConfig.graph
    k: int | None = IPConfig.k
    every: int = IPConfig.every
    units: int = IPConfig.units
    encoder_layers: int = IPConfig.encoder_layers
    learning_rate: float = IPConfig.learning_rate
    gamma: float = IPConfig.gamma
    tau: float = IPConfig.tau
    batch_size: int = IPConfig.batch_size
    buffer_size: int = IPConfig.buffer_size
    learning_starts: int = IPConfig.learning_starts
    train_freq: int = IPConfig.train_freq
    gradient_steps: int = IPConfig.gradient_steps
    jit_compile: bool = IPConfig.jit_compile
    n_envs: int = IPConfig.n_envs
    collector: str = IPConfig.collector
    replay_dtype: str = IPConfig.replay_dtype
    replay_on_device: bool = IPConfig.replay_on_device
    seed: int | None = IPConfig.seed
    target_update_interval: int = 1

    def __post_init__(self):
        self.validate()

    def validate(self):
        """Raises ValueError naming the first invalid field and the value received."""
        IPConfig(**{name: getattr(self, name) for name in SHARED_FIELDS})  # the same checks and messages
        _require("target_update_interval", self.target_update_interval, _positive_int, "an integer >= 1")

    def to_dict(self) -> dict:
        """Field name -> value, shallow: a Graph or KNN object stays an object."""
        return {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}


@dataclasses.dataclass
class DGNConfig(BaselineConfig):
    """Hyperparameters of `keras_ip.baselines.DGNAgent` (same names, same defaults).

    Attributes (besides `BaselineConfig`'s):
      conv_layers: relation (attention) layers stacked on the encoder (paper: 2).
      heads: attention heads per layer (each of width `units`).
      epsilon_start, epsilon_end: exploration rate of the epsilon-greedy policy, decayed
        linearly from start to end over `exploration_steps` environment steps (counted from
        step 0; before `learning_starts` every action is uniformly random anyway).
      exploration_steps: length of the linear decay.
      temporal_coefficient: lambda of the temporal relation regularisation, the KL between
        the last relation layer's attention at s (online) and at s' (target); the paper's
        0.03 by default, 0 turns it off.
    """

    conv_layers: int = 2
    heads: int = 4
    epsilon_start: float = 1.0
    epsilon_end: float = 0.05
    exploration_steps: int = 10_000
    temporal_coefficient: float = 0.03

    def validate(self):
        super().validate()
        for name in ("conv_layers", "heads", "exploration_steps"):
            _require(name, getattr(self, name), _positive_int, "an integer >= 1")
        for name in ("epsilon_start", "epsilon_end"):
            _require(name, getattr(self, name), lambda v: _is_number(v) and 0 <= v <= 1, "a number in [0, 1]")
        _require("temporal_coefficient", self.temporal_coefficient, lambda v: _is_number(v) and v >= 0,
                 "a number >= 0")


@dataclasses.dataclass
class MFQConfig(BaselineConfig):
    """Hyperparameters of `keras_ip.baselines.MFQAgent` (same names, same defaults).

    Attributes (besides `BaselineConfig`'s):
      temperature: T of the Boltzmann policy pi(a | s, abar) = softmax(Q(s, ., abar) / T),
        in reward units (the paper's beta = 1 / T).
      mean_field_iterations: rounds of abar_i <- mean_{j in N(i)} pi_j(. | s_j, abar_j),
        started from the uniform distribution, that give the mean action a policy
        conditions on when it acts and in the target. The uniform mean action is a fixed
        point wherever the game is symmetric in the actions, so one round cannot leave it
        (on the 3 x 3 coordination game, one round plays uniformly at random after 3000
        steps; three rounds reach the optimum, docs/baselines.md).
    """

    temperature: float = 0.1
    mean_field_iterations: int = 3

    def validate(self):
        super().validate()
        _require("temperature", self.temperature, lambda v: _is_number(v) and v > 0, "a positive number")
        _require("mean_field_iterations", self.mean_field_iterations, _positive_int, "an integer >= 1")


@dataclasses.dataclass
class IQLConfig(BaselineConfig):
    """Hyperparameters of `keras_ip.baselines.iql.IQLAgent` (same names, same defaults).

    Attributes (besides `BaselineConfig`'s):
      graph: "none" by default (an edgeless graph): the Q network reads only o_i, so no
        graph changes what it computes, only the cost of building the batches' GraphTensors.
      epsilon_start, epsilon_end, exploration_steps: the epsilon-greedy exploration rate,
        decayed linearly from start to end over `exploration_steps` environment steps, as for
        `DGNConfig`.
    """

    graph: Any = "none"
    epsilon_start: float = 1.0
    epsilon_end: float = 0.05
    exploration_steps: int = 10_000

    def validate(self):
        super().validate()
        _require("exploration_steps", self.exploration_steps, _positive_int, "an integer >= 1")
        for name in ("epsilon_start", "epsilon_end"):
            _require(name, getattr(self, name), lambda v: _is_number(v) and 0 <= v <= 1, "a number in [0, 1]")


@dataclasses.dataclass
class QMIXConfig(IQLConfig):
    """Hyperparameters of `keras_ip.baselines.qmix.QMIXAgent` (same names, same defaults).

    Attributes (besides `IQLConfig`'s, which mean the same for the agent network):
      mixing_embed_dim: E, the width of the mixing network's hidden layer (pymarl's 32).
      hypernet_units: width of the hidden layer of the hypernetworks W1(s) and w2(s) and of
        the per-agent embedding whose mean and max over the agents form the state s.
    """

    mixing_embed_dim: int = 32
    hypernet_units: int = 64

    def validate(self):
        super().validate()
        for name in ("mixing_embed_dim", "hypernet_units"):
            _require(name, getattr(self, name), _positive_int, "an integer >= 1")


def _positive_int(value) -> bool:
    return is_int(value) and value >= 1
