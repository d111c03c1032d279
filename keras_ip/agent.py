"""`IPAgent`: the scikit-style estimator that trains intention propagation on a PettingZoo env.

Roles: the environment adapter steps the env; the replay buffer stores joint transitions;
the learner (`keras_ip.sac.SACLearner`) owns the compiled update; the loop, callbacks,
evaluation, save and load are `keras_ip.estimator.Estimator`'s, shared with the baselines.
"""

from __future__ import annotations

import contextlib

from keras_ip.config import ARCHITECTURE_FIELDS, FIELD_NAMES, IPConfig
from keras_ip.estimator import Estimator
from keras_ip.networks import ActionSpec, build_networks
from keras_ip.sac.learner import SACLearner

_LEARNER_FIELDS = ("learning_rate", "gamma", "tau", "alpha")


class IPAgent(Estimator):
    """Intention Propagation (soft actor-critic over an agent graph) for cooperative agents.

    Example:
      >>> agent = IPAgent("coordination", graph="grid", seed=0).fit(steps=2000)
      >>> agent.predict(np.ones((9, 1), np.float32))   # every agent's greedy action
      array([1, 1, 1, 1, 1, 1, 1, 1, 1], dtype=int32)
      >>> agent.evaluate(episodes=10)                  # mean team return
      0.0

    Init args:
      env: a PettingZoo `ParallelEnv` (or its `keras_ip.envs.from_pettingzoo` adapter), or a
        registered name for `keras_ip.make_env`.
      env_kwargs: keyword arguments for `make_env` when `env` is a name (kept by `save`).
      train_groups, fixed_policies: which agent groups learn and how the others act (the
        paper's predator-prey protocol; see `keras_ip.group_policies`). Default: all learn.
      strategy: a `tf.distribute.Strategy` (e.g. `MirroredStrategy()`) that splits each
        update's batch across its devices; None for the default device. Not saved.
      Every other argument is a field of `keras_ip.config.IPConfig`, documented there.
    """

    config_class = IPConfig

    def __init__(self, env, graph="grid", k=None, every=1, propagation="mean_field", hops=2, units=128, critic_hops=1,
                 encoder_layers=1, aggregation="mean", learning_rate=1e-3, gamma=0.95, tau=0.01, alpha=0.2, target_entropy=None,
                 batch_size=1024, buffer_size=1_000_000, learning_starts=1000, train_freq=8, gradient_steps=8,
                 gumbel_temperature=1.0, jit_compile=True, n_envs=1, collector="local", replay_dtype="float32", replay_on_device=False,
                 seed=None, env_kwargs=None, train_groups=None, fixed_policies=None, strategy=None):
        params = {name: value for name, value in locals().items() if name in FIELD_NAMES}
        self.strategy = strategy
        super().__init__(env, env_kwargs, train_groups, fixed_policies, **params)

    # ----------------------------------------------------------------------------- building
    def _build_model(self):
        c = self.config
        a = self.adapter
        self.action_spec = (ActionSpec(num_actions=a.num_actions, group_num_actions=tuple(a.group_num_actions))
                            if a.discrete
                            else ActionSpec(action_dim=a.action_dim, low=a.action_low, high=a.action_high))
        with self.strategy.scope() if self.strategy else contextlib.nullcontext():
            self.networks = build_networks(a.obs_dim, self.action_spec, c.propagation, c.units, c.hops, c.critic_hops,
                                           c.encoder_layers, a.num_groups, c.aggregation)
        self.learner = SACLearner(self.networks, self.action_spec, self.graph, group_ids=self._group_ids,
                                  learning_rate=c.learning_rate,
                                  gamma=c.gamma, tau=c.tau, alpha=c.alpha, target_entropy=c.target_entropy,
                                  gumbel_temperature=c.gumbel_temperature, jit_compile=c.jit_compile,
                                  seed=None if c.seed is None else c.seed + 1, strategy=self.strategy,
                                  trained_weights=self.group_policies.trained_weights())
        self._build_act_functions(self.networks.actor, self.action_spec)

    @property
    def policy_network(self):
        return self.networks.actor

    # ----------------------------------------------------------------------------- params
    def set_params(self, **params):
        """Changes hyperparameters; returns self.

        Learner settings (learning_rate, gamma, tau, alpha with a fixed alpha) apply to
        the live networks. Architecture settings (graph, propagation, hops, units,
        critic_hops, encoder_layers, aggregation) and jit_compile rebuild the networks with fresh
        weights. Replay settings (buffer_size, n_envs, replay_dtype, replay_on_device) rebuild
        the replay buffer, with a warning when that discards transitions. Anything else
        (batch_size, train_freq, ...) applies from the next step; a new seed is used from the
        next rebuild on.
        """
        unknown = sorted(set(params) - set(FIELD_NAMES))
        if unknown:
            raise ValueError(f"Unknown parameter(s) {unknown}. Valid parameters: {list(FIELD_NAMES)}")
        candidate = self.config_class(**dict(self.config.to_dict(), **params))  # validates
        rebuild = any(name in params for name in ARCHITECTURE_FIELDS + ("jit_compile", "target_entropy"))
        if "alpha" in params and (params["alpha"] == "auto") != (self.config.alpha == "auto"):
            rebuild = True
        self.config = candidate
        if self.replay is not None and not self._replay_matches_config():
            self._discard_replay(f"set_params changed {sorted(params)}")
        if rebuild:
            self._build()
        else:
            self.learner.set_hyperparameters(**{k: params[k] for k in _LEARNER_FIELDS if k in params
                                                and not (k == "alpha" and params[k] == "auto")})
        return self
