"""The algorithms an experiment can run, by name, each built with IPAgent's interface.

Every entry builds an object with `fit(steps, callbacks, progress_bar)`,
`evaluate(episodes, deterministic, seed, metrics)`, `save(path, include_replay)`, a
classmethod `load(path)`, `num_timesteps` and `logger`:

  "ip"            IPAgent, mean-field propagation (eq. 5)
  "ip_loopy_bp"   IPAgent, loopy belief propagation (appendix B.2)
  "independent"   IPAgent with propagation="none", the paper's independent-policy ablation
                  (its critics Q_i(s, a_i, a_N(i)) still see the neighbours)
  "ip_state_only" IPAgent with propagation="state_only": the same state messages, no intention
                  messages (`keras_ip.layers.StateOnlyPropagation`), the same critics as IP
  "isac"          keras_ip.baselines.ISACAgent, independent SAC: pi(a_i | o_i), Q(o_i, a_i),
                  V(o_i), nothing about neighbours anywhere (graph="none")
  "dgn", "mfq"    keras_ip.baselines.DGNAgent / MFQAgent (imported when first used)
  "iql"           keras_ip.baselines.IQLAgent: independent DQN (double-Q target) on o_i alone
  "pic"           keras_ip.baselines.PICAgent: MADDPG with the permutation-invariant critic,
                  Gumbel-softmax actors (discrete actions)
  "qmix"          keras_ip.baselines.QMIXAgent: monotonic value factorisation of the team reward,
                  its mixer's state pooled from the agents' observations
  "max_pressure", "greedy", "fixed_time"
                  the classical traffic controllers of keras_ip.envs.traffic.controllers,
                  wrapped by `ControllerAgent`: they play the environment for the step budget
                  and learn nothing, so their curves are flat lines.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
from typing import Callable

_RESERVED = ("seed", "env_kwargs", "env")  # set by the experiment, not by hyperparameters
_GROUP_ARGUMENTS = ("train_groups",)  # learning agents' arguments outside their config (see keras_ip.group_policies)


@dataclasses.dataclass(frozen=True)
class Algorithm:
    """A registered algorithm.

    Attributes:
      name: its registry name.
      agent_class: a callable returning the agent class (so heavy imports wait until use).
      defaults: constructor arguments that define the algorithm (e.g. propagation="none").
      learns: False for fixed controllers, which take no shared hyperparameters.

    An agent class with a `config_class` (IPConfig for IPAgent, DGNConfig, MFQConfig) has
    its hyperparameters validated by it; otherwise the constructor's keyword arguments
    are the valid names and the constructor checks the values.
    """

    name: str
    agent_class: Callable[[], type]
    defaults: dict = dataclasses.field(default_factory=dict)
    learns: bool = True

    def make(self, env: str, env_kwargs: dict, seed: int, hyperparameters: dict):
        """A new agent on the registered environment `env`, seeded with `seed`: the algorithm's
        defaults (e.g. propagation="none" for "independent"), overridden by `hyperparameters`."""
        return self.agent_class()(env, env_kwargs=env_kwargs, seed=seed, **{**self.defaults, **hyperparameters})

    def load(self, path):
        """The agent saved at `path` (a checkpoint directory)."""
        return self.agent_class().load(path)

    def hyperparameter_names(self) -> list[str]:
        """The constructor arguments a run may set: the config dataclass's fields and train_groups
        (the other groups act at random), or the constructor's keyword arguments, without seed,
        env and env_kwargs."""
        config_class = self._config_class()
        if config_class is not None:
            return [f.name for f in dataclasses.fields(config_class) if f.name not in _RESERVED] + list(_GROUP_ARGUMENTS)
        parameters = inspect.signature(self.agent_class().__init__).parameters.values()
        return [p.name for p in parameters if p.name not in ("self", "strategy", *_RESERVED)
                and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]

    def validate(self, hyperparameters: dict, run: str):
        """Raises ValueError naming the run and the bad hyperparameter."""
        reserved = sorted(set(hyperparameters) & set(_RESERVED))
        if reserved:
            raise ValueError(f"Run {run!r}: {reserved} are set by the experiment (seeds, env, env_kwargs), not as "
                             f"hyperparameters. Received: { {k: hyperparameters[k] for k in reserved} }")
        valid = self.hyperparameter_names()
        unknown = sorted(set(hyperparameters) - set(valid))
        if unknown:
            raise ValueError(f"Run {run!r} ({self.name}): unknown hyperparameter(s) {unknown}. Valid: {sorted(valid)}")
        config_class = self._config_class()
        if config_class is not None:
            try:
                config_class(**{k: v for k, v in hyperparameters.items() if k not in _GROUP_ARGUMENTS})
            except ValueError as error:
                raise ValueError(f"Run {run!r} ({self.name}): {error}") from error

    def _config_class(self):
        return getattr(self.agent_class(), "config_class", None)


def _ip_agent():
    from keras_ip.agent import IPAgent  # pylint: disable=import-outside-toplevel
    return IPAgent


def _baseline(class_name: str):
    def agent_class():
        return getattr(importlib.import_module("keras_ip.baselines"), class_name)
    return agent_class


def _controller_agent():
    from keras_ip.experiments.controller_agent import ControllerAgent  # pylint: disable=import-outside-toplevel
    return ControllerAgent


ALGORITHMS = {algorithm.name: algorithm for algorithm in (
    Algorithm("ip", _ip_agent, {"propagation": "mean_field"}),
    Algorithm("ip_loopy_bp", _ip_agent, {"propagation": "loopy_bp"}),
    Algorithm("independent", _ip_agent, {"propagation": "none"}),
    Algorithm("ip_state_only", _ip_agent, {"propagation": "state_only"}),
    Algorithm("isac", _baseline("ISACAgent"), {"graph": "none", "propagation": "none", "critic_hops": 0}),
    Algorithm("dgn", _baseline("DGNAgent")),
    Algorithm("mfq", _baseline("MFQAgent")),
    Algorithm("iql", _baseline("IQLAgent"), {"graph": "none"}),
    Algorithm("pic", _baseline("PICAgent"), {"graph": "none"}),
    Algorithm("qmix", _baseline("QMIXAgent"), {"graph": "none"}),
    Algorithm("max_pressure", _controller_agent, {"controller": "max_pressure"}, learns=False),
    Algorithm("greedy", _controller_agent, {"controller": "greedy"}, learns=False),
    Algorithm("fixed_time", _controller_agent, {"controller": "fixed_time"}, learns=False),
)}


def get_algorithm(name: str) -> Algorithm:
    """The registered algorithm `name`; ValueError listing the known names otherwise."""
    if name not in ALGORITHMS:
        raise ValueError(f"Unknown algorithm. Received: algorithm={name!r}; known algorithms: {sorted(ALGORITHMS)}")
    return ALGORITHMS[name]
