"""Builds the actor, twin critics, value network and target value network (paper section 4.2).

Networks only: no optimisers, no training logic (that is `keras_ip.sac.learner`).
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import numpy as np
import tensorflow as tf
import tensorflow_gnn as tfgnn

from keras_ip.graphs.tensor import AGENTS, GROUP
from keras_ip.layers import PROPAGATION_LAYERS, CategoricalHead, NeighbourhoodCritic, TanhGaussianHead
from keras_ip.learner_base import build_on_dummy_graph, copy_weights


@dataclasses.dataclass(frozen=True)
class ActionSpec:
    """What every agent's action looks like.

    Attributes:
      num_actions: A for discrete actions, else None.
      action_dim: k for continuous actions, else None.
      low, high: float32 [k] bounds of continuous actions, else None.
      group_num_actions: for agent groups with Discrete spaces of different sizes, each
        group's A_g (max A_g = A): one head of A outputs, in which agent i may take only
        actions [0, A_{g_i}) (`mask`); None when every agent has all A actions.
    """

    num_actions: int | None = None
    action_dim: int | None = None
    low: np.ndarray | None = None
    high: np.ndarray | None = None
    group_num_actions: tuple | None = None

    def __post_init__(self):
        if (self.num_actions is None) == (self.action_dim is None):
            raise ValueError("ActionSpec needs exactly one of num_actions (discrete) or action_dim (continuous). "
                             f"Received: num_actions={self.num_actions}, action_dim={self.action_dim}")
        if self.group_num_actions is not None:
            sizes = tuple(int(n) for n in self.group_num_actions)
            if self.num_actions is None or max(sizes) != self.num_actions or min(sizes) < 1:
                raise ValueError("group_num_actions needs discrete actions, each group's count >= 1 and the largest "
                                 f"equal to num_actions. Received: num_actions={self.num_actions}, "
                                 f"group_num_actions={self.group_num_actions}")
            object.__setattr__(self, "group_num_actions", None if len(set(sizes)) == 1 else sizes)

    def mask(self, scores, graph: tfgnn.GraphTensor):
        """Logits or Q-values [nodes, A] with the actions each agent's group lacks set to `INVALID_SCORE`
        (read from the graph's "group" node feature); unchanged when all agents have all A actions.

        INVALID_SCORE is finite, so softmax gives them probability exactly 0 and 0 * log p stays 0.
        """
        if self.group_num_actions is None:
            return scores
        limits = tf.gather(tf.constant(self.group_num_actions, tf.int32), graph.node_sets[AGENTS][GROUP])  # [nodes]
        valid = tf.range(self.num_actions)[None, :] < limits[:, None]                                   # [nodes, A]
        return tf.where(valid, scores, tf.cast(INVALID_SCORE, scores.dtype))

    def mean_log_num_actions(self) -> float:
        """log A, or the mean over groups of log A_g (for the default entropy target)."""
        sizes = self.group_num_actions or (self.num_actions,)
        return float(np.mean(np.log(sizes)))

    def to_config(self) -> dict:
        """JSON-ready fields (for `get_config` and the export's description)."""
        return {"num_actions": self.num_actions, "action_dim": self.action_dim,
                "low": None if self.low is None else np.asarray(self.low).tolist(),
                "high": None if self.high is None else np.asarray(self.high).tolist(),
                "group_num_actions": None if self.group_num_actions is None else list(self.group_num_actions)}

    @classmethod
    def from_config(cls, config: dict) -> "ActionSpec":
        config = dict(config)
        for name in ("low", "high"):
            if config.get(name) is not None:
                config[name] = np.asarray(config[name], np.float32)
        return cls(**config)

    @property
    def discrete(self) -> bool:
        return self.num_actions is not None

    @property
    def critic_features(self) -> int:
        """Width of the action input of a critic: one-hot size or action_dim."""
        return self.num_actions if self.discrete else self.action_dim

    def to_unit_box(self, actions):
        """Continuous env actions [..., k] in [low, high] -> [-1, 1]."""
        centre, half = (self.high + self.low) / 2.0, (self.high - self.low) / 2.0
        return (tf.cast(actions, tf.float32) - centre) / half

    def from_unit_box(self, actions):
        """[-1, 1] -> env actions in [low, high]."""
        centre, half = (self.high + self.low) / 2.0, (self.high - self.low) / 2.0
        return actions * half + centre


INVALID_SCORE = -1e9  # the logit / Q-value of an action an agent's group does not have


@tf.keras.utils.register_keras_serializable(package="keras_ip")
class Actor(tf.keras.Model):
    """The intention propagation network Lambda_theta(a | s): propagation layer + policy head.

    Call args:
      graph: `tfgnn.GraphTensor` of joint states.
    Init args:
      propagation: "mean_field", "loopy_bp" or "none". action_spec: the agents' `ActionSpec`
        (or its `to_config()` dict). units, hops, encoder_layers, num_groups, aggregation:
        as for `build_networks`.
    Call returns:
      discrete: logits [nodes, A] (actions an agent's group lacks at `INVALID_SCORE`);
      continuous: (mean, log_std), each [nodes, k] (pre-tanh).
    """

    def __init__(self, propagation: str, action_spec: ActionSpec, units: int, hops: int, encoder_layers: int = 1,
                 num_groups: int = 1, aggregation: str = "mean", **kwargs):
        super().__init__(**kwargs)
        if isinstance(action_spec, dict):
            action_spec = ActionSpec.from_config(action_spec)
        if propagation not in PROPAGATION_LAYERS:
            raise ValueError(f"propagation must be one of {sorted(PROPAGATION_LAYERS)}. "
                             f"Received: propagation={propagation!r}")
        self.propagation_name = propagation
        self.action_spec = action_spec
        self.units, self.hops, self.encoder_layers = units, hops, encoder_layers
        self.num_groups, self.aggregation = num_groups, aggregation
        intention_dim = action_spec.num_actions if action_spec.discrete else 2 * action_spec.action_dim
        self.propagation = PROPAGATION_LAYERS[propagation](units=units, hops=hops, intention_dim=intention_dim,
                                                           encoder_layers=encoder_layers, num_groups=num_groups,
                                                           aggregation=aggregation, name=propagation)
        self.head = (CategoricalHead(action_spec.num_actions, name="head") if action_spec.discrete
                     else TanhGaussianHead(action_spec.action_dim, name="head"))

    def call(self, graph: tfgnn.GraphTensor):
        output = self.head(self.propagation(graph))
        return self.action_spec.mask(output, graph) if self.action_spec.discrete else output

    def get_config(self):
        return dict(super().get_config(), propagation=self.propagation_name, action_spec=self.action_spec.to_config(),
                    units=self.units, hops=self.hops, encoder_layers=self.encoder_layers, num_groups=self.num_groups,
                    aggregation=self.aggregation)


class Networks(NamedTuple):
    """Everything the learner trains. `critics` are the twin Q_i as one batched layer
    (copies=2; for discrete actions each returns Q_i(s, a, a_Ni) for every own action a);
    target_value is V-bar."""

    actor: Actor
    critics: NeighbourhoodCritic
    value: NeighbourhoodCritic
    target_value: NeighbourhoodCritic


def build_networks(obs_dim: int, action_spec: ActionSpec, propagation: str = "mean_field", units: int = 128,
                   hops: int = 2, critic_hops: int = 1, encoder_layers: int = 1, num_groups: int = 1,
                   aggregation: str = "mean") -> Networks:
    """Creates and builds (variables created) all networks; the target starts equal to V.

    Args:
      obs_dim: per-agent observation size d.
      action_spec: the agents' `ActionSpec`.
      propagation: "mean_field", "loopy_bp" or "none".
      units, hops, encoder_layers: policy network width, propagation hops M, encoder depth.
      num_groups: agent groups, each with its own first encoder layer (heterogeneous agents).
      critic_hops: rounds of state messages in Q_i and V_i (>= 0); Q_i always adds one
        round of action messages so it sees a_Ni.
      aggregation: "mean" or "sum" of the neighbours' messages, in every network; or
        "attention" in the policy (mean-field only), with averaging critics.

    Every network encodes [s_i, log(1 + in-degree_i)] (the layers' `degree_input` default), so
    averaging over neighbours does not hide how many an agent has.
    """
    q_kind = "discrete_q" if action_spec.discrete else "continuous_q"

    critic_aggregation = "mean" if aggregation == "attention" else aggregation

    def critic(kind, name, copies=1):
        return NeighbourhoodCritic(kind, units, critic_hops, action_spec.num_actions if kind == "discrete_q" else None,
                                   encoder_layers, num_groups, copies, critic_aggregation, name=name)

    networks = Networks(actor=Actor(propagation, action_spec, units, hops, encoder_layers, num_groups, aggregation,
                                    name="actor"),
                        critics=critic(q_kind, "critics", copies=2),
                        value=critic("value", "value"), target_value=critic("value", "target_value"))
    dummy_actions = tf.zeros([2, action_spec.critic_features])
    build_on_dummy_graph(obs_dim, num_groups, (networks.actor,), (networks.critics, dummy_actions), (networks.value,),
                         (networks.target_value,))
    copy_weights(networks.target_value, networks.value)
    return networks
