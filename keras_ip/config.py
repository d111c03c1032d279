"""The single source of truth for IPAgent's hyperparameters and their defaults.

Defaults follow the paper's appendix H, table 2, except where stated: hidden units 128,
M = 2 hops, Adam, discount 0.95, replay 10^6, minibatch 1024, target smoothing 0.01,
target update every step, 8 gradient steps, entropy weight 0.2.

Each field's `metadata["help"]` is its line in `keras-ip train --help`; the class docstring,
which the API reference renders, is the full description. Importing this module does not
import TensorFlow, so the command line's help answers at once.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from keras_ip._checks import is_int
from keras_ip._names import AGGREGATIONS, COLLECTORS, PROPAGATIONS

ARCHITECTURE_FIELDS = ("graph", "k", "every", "propagation", "hops", "units", "critic_hops", "encoder_layers",
                       "aggregation")


@dataclasses.dataclass
class IPConfig:
    """Hyperparameters of `keras_ip.IPAgent` (same names, same defaults).

    Attributes:
      graph: "grid", "full", "random", "knn" (rebuilt from agent positions during the
        episode), "none" (no edges: independent learners), a `keras_ip.graphs.Graph`, a
        `keras_ip.graphs.KNN`, or a callable env -> Graph.
      k: neighbours per agent for graph="knn" (default 8) and graph="random" (default 3).
      every: environment steps between k-NN rebuilds (graph="knn").
      propagation: "mean_field" (eq. 5), "loopy_bp" (appendix B.2), "state_only" (state
        messages without intention messages, `keras_ip.layers.StateOnlyPropagation`) or "none"
        (independent policies, the paper's ablation).
      hops: propagation iterations M of the policy network.
      units: hidden units per layer of every network.
      critic_hops: rounds of state messages in Q_i and V_i (>= 0); Q_i adds one round of
        action messages, so it always sees a_Ni.
      encoder_layers: depth of each network's input MLP.
      aggregation: how every network combines its neighbours' messages: "mean" (default) or
        the paper's "sum". The mean learns much faster (docs/index.md gives the measurements)
        but forgets how many neighbours an agent has (on a k-NN graph, where all have k, it is
        the sum / k); every network therefore also reads log(1 + in-degree) next to the
        observation (`keras_ip.layers.base`). "attention": the
        mean-field policy weighs its neighbours by learned attention
        (`keras_ip.layers.NeighbourAttention`) and the critics average.
      learning_rate: Adam learning rate of all networks. The paper lists 0.01; here that
        drives the discrete mean-field policy's entropy to zero within a few updates, so
        the default is 1e-3 (inside the paper's tuning range 1e-4 .. 1e-2).
      gamma: discount factor.
      tau: Polyak coefficient of the target value network.
      alpha: entropy weight, or "auto" to tune it to `target_entropy`.
      target_entropy: per-agent entropy target with alpha="auto" (None: 0.98 log A for
        discrete, -k for continuous actions).
      batch_size: joint transitions per update (each holds N agents).
      buffer_size: replay capacity in joint transitions.
      learning_starts: environment steps of uniformly random actions before updates start.
      train_freq: environment steps between rounds of updates.
      gradient_steps: updates per round (train_freq = gradient_steps = 8: one update per
        environment step on average; the paper gives 8 gradient steps but no interval).
      gumbel_temperature: temperature of the straight-through Gumbel-softmax (discrete).
      jit_compile: compile the update and action selection with XLA (faster on CPU, see
        docs/performance.md).
      n_envs: environment copies collected from with one action call per step (built-in
        particle scenarios as one numpy batch, other environments in worker processes);
        each step of the K copies counts K environment steps.
      collector: who steps the K copies: "local" (the above, on this machine) or "ray" (Ray
        actors, one copy each, on a local Ray instance started on demand or the cluster of an
        earlier `ray.init(address=...)`; `pip install "keras-ip[distributed]"`). Same seeds,
        same transitions.
      replay_dtype: "float32" or "float16", the storage dtype of replayed observations
        (float16 halves the replay's largest array).
      replay_on_device: keep the replay's transitions in tf.Variables on TensorFlow's default
        device (a GPU when present), so each sampled batch goes to the update without passing
        through host memory (`keras_ip.replay_device`). The same batches as the host replay;
        on a GPU the buffer must fit in its memory. On a CPU-only machine it only moves the
        storage into TensorFlow.
      seed: seeds the environment, exploration, replay sampling and network noise.
    """

    graph: Any = dataclasses.field(
        default="grid", metadata={"help": '"grid", "full", "random", "knn" (rebuilt from agent positions) or "none"'})
    k: int | None = dataclasses.field(
        default=None, metadata={"help": "neighbours per agent for --graph knn (null: 8) and --graph random (null: 3)"})
    every: int = dataclasses.field(
        default=1, metadata={"help": "environment steps between k-NN rebuilds (--graph knn)"})
    propagation: str = dataclasses.field(
        default="mean_field", metadata={"help": '"mean_field" (eq. 5), "loopy_bp" (app. B.2), "state_only" or "none" (independent)'})
    hops: int = dataclasses.field(
        default=2, metadata={"help": "propagation iterations M of the policy network"})
    units: int = dataclasses.field(
        default=128, metadata={"help": "hidden units per layer of every network"})
    critic_hops: int = dataclasses.field(
        default=1, metadata={"help": "rounds of state messages in Q_i and V_i; Q_i adds one round of action messages"})
    encoder_layers: int = dataclasses.field(
        default=1, metadata={"help": "depth of each network's input MLP"})
    aggregation: str = dataclasses.field(
        default="mean", metadata={"help": 'how networks combine neighbour messages: "mean", "sum" or "attention"'})
    learning_rate: float = dataclasses.field(
        default=1e-3, metadata={"help": "Adam learning rate of all networks"})
    gamma: float = dataclasses.field(
        default=0.95, metadata={"help": "discount factor"})
    tau: float = dataclasses.field(
        default=0.01, metadata={"help": "Polyak coefficient of the target value network"})
    alpha: Any = dataclasses.field(
        default=0.2, metadata={"help": 'entropy weight, or "auto" to tune it to --target-entropy'})
    target_entropy: float | None = dataclasses.field(
        default=None, metadata={"help": "per-agent entropy target with --alpha auto (null: 0.98 log A or -k)"})
    batch_size: int = dataclasses.field(
        default=1024, metadata={"help": "joint transitions per update (each holds N agents)"})
    buffer_size: int = dataclasses.field(
        default=1_000_000, metadata={"help": "replay capacity in joint transitions"})
    learning_starts: int = dataclasses.field(
        default=1000, metadata={"help": "environment steps of uniformly random actions before updates start"})
    train_freq: int = dataclasses.field(
        default=8, metadata={"help": "environment steps between rounds of updates"})
    gradient_steps: int = dataclasses.field(
        default=8, metadata={"help": "updates per round"})
    gumbel_temperature: float = dataclasses.field(
        default=1.0, metadata={"help": "temperature of the straight-through Gumbel-softmax (discrete actions)"})
    jit_compile: bool = dataclasses.field(
        default=True, metadata={"help": "compile the update and action selection with XLA"})
    n_envs: int = dataclasses.field(
        default=1, metadata={"help": "environment copies stepped together; a step of K copies counts K steps"})
    collector: str = dataclasses.field(
        default="local", metadata={"help": 'who steps the n_envs copies: "local" or "ray" (Ray actors)'})
    replay_dtype: str = dataclasses.field(
        default="float32", metadata={"help": 'storage dtype of replayed observations: "float32" or "float16"'})
    replay_on_device: bool = dataclasses.field(
        default=False, metadata={"help": "keep the replay in tf.Variables on TensorFlow's default device"})
    seed: int | None = dataclasses.field(
        default=None, metadata={"help": "seeds the environment, exploration, replay sampling and network noise"})

    def __post_init__(self):
        self.validate()

    def validate(self):
        """Raises ValueError naming the first invalid field and the value received."""
        if self.propagation not in PROPAGATIONS:
            raise ValueError(f"propagation must be one of {PROPAGATIONS}. Received: propagation={self.propagation!r}")
        _require("aggregation", self.aggregation, lambda v: v in AGGREGATIONS, f"one of {AGGREGATIONS}")
        for name in ("hops", "units", "encoder_layers", "batch_size", "buffer_size", "train_freq", "gradient_steps",
                     "every", "n_envs"):
            _require(name, getattr(self, name), lambda v: is_int(v) and v >= 1, "an integer >= 1")
        for name in ("critic_hops", "learning_starts"):
            _require(name, getattr(self, name), lambda v: is_int(v) and v >= 0, "an integer >= 0")
        _require("learning_rate", self.learning_rate, lambda v: _is_number(v) and v > 0, "a positive number")
        _require("gamma", self.gamma, lambda v: _is_number(v) and 0 <= v <= 1, "a number in [0, 1]")
        _require("tau", self.tau, lambda v: _is_number(v) and 0 < v <= 1, "a number in (0, 1]")
        _require("alpha", self.alpha, lambda v: v == "auto" or (_is_number(v) and v > 0),
                 'a positive number or "auto"')
        _require("k", self.k, lambda v: v is None or (is_int(v) and v >= 1), "an integer >= 1 or None")
        _require("target_entropy", self.target_entropy, lambda v: v is None or _is_number(v), "a number or None")
        _require("gumbel_temperature", self.gumbel_temperature, lambda v: _is_number(v) and v > 0, "a positive number")
        for name in ("jit_compile", "replay_on_device"):
            _require(name, getattr(self, name), lambda v: isinstance(v, bool), "True or False")
        _require("collector", self.collector, lambda v: v in COLLECTORS, f"one of {COLLECTORS}")
        _require("replay_dtype", self.replay_dtype, lambda v: v in ("float32", "float16"), '"float32" or "float16"')
        _require("seed", self.seed, lambda v: v is None or (is_int(v) and v >= 0), "a non-negative integer or None")

    def to_dict(self) -> dict:
        """Field name -> value, shallow: a Graph or KNN object stays an object."""
        return {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _require(name, value, predicate, expected):
    if not predicate(value):
        raise ValueError(f"{name} must be {expected}. Received: {name}={value!r}")


FIELD_NAMES = tuple(field.name for field in dataclasses.fields(IPConfig))
