"""`Estimator`: fit / predict / evaluate / save / load, shared by every agent of keras-ip
(`IPAgent`, `keras_ip.baselines.DGNAgent`, `MFQAgent`).

Roles: the `keras_ip.collector.Collector` steps the environment copies and fills the
replay; a subclass's learner owns the compiled update and its action functions pick
actions; `keras_ip.persistence` writes and reads saves; this module runs the training loop
(collect, update, callbacks), acting and evaluation. A subclass provides (abstract below)
  config_class       the dataclass of its hyperparameters (validates them);
  _build_model()     networks, `self.learner` (with `train_step(batch) -> dict` and
                     `checkpoint_objects()`), and the compiled action functions
                     `self._act_static(obs, deterministic)` (None without a static graph) and
                     `self._act_dynamic(obs, deterministic, senders, receivers)`;
  policy_network     the Keras model `export` writes (GraphTensor -> logits or (mean, log_std)).
"""

from __future__ import annotations

import abc
import warnings
from collections.abc import Mapping

import numpy as np
import tensorflow as tf

from keras_ip import callbacks as callbacks_lib
from keras_ip import persistence
from keras_ip._checks import check_int
from keras_ip.envs.adapter import ParallelEnvAdapter
from keras_ip.envs.registry import make_env
from keras_ip.collector import Collector, knn_graph
from keras_ip.export import export_saved_model
from keras_ip.graphs.dynamic import KNN
from keras_ip.graphs.resolve import resolve_graph
from keras_ip.graphs.tensor import GraphBatcher, batch_graph_tensor
from keras_ip.graphs.topology import Graph
from keras_ip.group_policies import GroupPolicies
from keras_ip.logger import Logger
from keras_ip.replay import ReplayBuffer, ReplayStreams
from keras_ip.replay_device import DeviceReplayBuffer
from keras_ip.sac.policy import compiled_actions

_FAR_AWAY = 1e6  # where predict places agents that have left the episode when it builds a k-NN graph


class Estimator(abc.ABC):
    """Base of the agents: fit / predict / evaluate / save / load over a PettingZoo env.

    Init args:
      env: a PettingZoo `ParallelEnv` (or its `keras_ip.envs.from_pettingzoo` adapter), or a
        registered name for `keras_ip.make_env`.
      env_kwargs: keyword arguments for `make_env` when `env` is a name (kept by `save`).
      train_groups: the agent groups that learn (names as `keras_ip.envs.adapter.group_of`
        gives them, e.g. ["adversary"]); None: every group without a fixed policy.
      fixed_policies: {group: "random" | a keras-ip agent | callable obs dict -> action dict}
        for the groups that do not learn (see `keras_ip.group_policies`); a group outside
        `train_groups` and absent here acts uniformly at random.
      **params: the fields of `config_class` (graph, k, every, batch_size, ..., seed).
    """

    config_class = None  # every subclass sets its config dataclass

    def __init__(self, env, env_kwargs=None, train_groups=None, fixed_policies=None, **params):
        if self.config_class is None:
            raise TypeError(f"{type(self).__name__} must set config_class, the dataclass of its hyperparameters.")
        self.config = self.config_class(**params)
        self.env_name = env if isinstance(env, str) else None
        self.env_kwargs = dict(env_kwargs or {})
        if self.env_name is None and self.env_kwargs:
            raise ValueError("env_kwargs only apply when env is a registered name. "
                             f"Received: env={type(env).__name__}, env_kwargs={self.env_kwargs}")
        if isinstance(env, ParallelEnvAdapter):  # from keras_ip.envs.from_pettingzoo
            env = env.env
        self.env = make_env(env, **self.env_kwargs) if self.env_name is not None else env
        self.adapter = ParallelEnvAdapter(self.env)
        self.group_policies = GroupPolicies(self.adapter, train_groups, fixed_policies)
        self._check_environment()
        self.logger = Logger()
        self.num_timesteps = 0
        self.num_updates = 0
        self.replay = None
        self._rng = np.random.default_rng(self.config.seed)
        self._fixed_rng = np.random.default_rng(None if self.config.seed is None else self.config.seed + 3)
        self._collector = None  # the environment copies fit collects from, made by fit
        self._build()

    # ----------------------------------------------------------------------------- building
    def _build(self):
        """Resolves the graph, seeds Keras and the action generator, then `_build_model`."""
        c = self.config
        a = self.adapter
        resolved = resolve_graph(c.graph, self.env, a.num_agents, seed=c.seed, k=c.k, every=c.every)
        self.graph_schedule = resolved if isinstance(resolved, KNN) else None
        self.graph = None if self.graph_schedule else resolved  # a dynamic graph is built at reset
        self._group_ids = a.group_ids if a.num_groups > 1 else None
        self._batcher = None if self.graph is None else GraphBatcher(self.graph, self._group_ids)
        if c.seed is not None:
            tf.keras.utils.set_random_seed(c.seed)
        self._act_generator = (tf.random.Generator.from_seed(c.seed + 2) if c.seed is not None
                               else tf.random.Generator.from_non_deterministic_state())
        self._build_model()

    def _check_environment(self):
        """Raises ValueError when the algorithm cannot handle the environment (e.g. its action space)."""

    @abc.abstractmethod
    def _build_model(self):
        """Builds the networks, `self.learner` and the action functions (see the module docstring)."""

    def _to_dynamic_graph(self, observations, senders, receivers):
        """[K, N, d] joint states with one edge list [K, E] per row -> GraphTensor (for `_act_dynamic`)."""
        return batch_graph_tensor(observations, senders, receivers, group_ids=self._group_ids)

    @property
    @abc.abstractmethod
    def policy_network(self) -> tf.keras.Model:
        """The network `export` writes: GraphTensor -> logits [nodes, A] or (mean, log_std)."""

    def _act(self, observations, deterministic, graph=None):
        """numpy [K, N, d] -> numpy actions, on the agent's static graph, on `graph` (a Graph),
        or on one Graph per row (a list of K, e.g. each environment copy's k-NN graph)."""
        if graph is None:
            return self._act_static(observations, deterministic).numpy()
        graphs = graph if isinstance(graph, list) else [graph] * observations.shape[0]
        edges = [np.stack([g.senders for g in graphs]), np.stack([g.receivers for g in graphs])]  # [K, E] each
        return self._act_dynamic(observations, deterministic, *edges).numpy()

    def _make_replay(self):
        a = self.adapter
        num_edges = self.graph_schedule.num_edges(a.num_agents) if self.graph_schedule else None
        return ReplayStreams(self.config.n_envs, self.config.buffer_size, a.num_agents, a.obs_dim,
                             action_dim=None if a.discrete else a.action_dim, num_edges=num_edges,
                             obs_dtype=self.config.replay_dtype, seed=self.config.seed,
                             buffer_type=DeviceReplayBuffer if self.config.replay_on_device else ReplayBuffer)

    def _build_act_functions(self, policy, action_spec):
        """Sets `_act_static` (None without a static graph) and `_act_dynamic`: compiled calls of
        `policy` (GraphTensor -> `select_actions` input) from joint states to actions."""
        act = (policy, action_spec, self._act_generator, self.config.jit_compile)
        self._act_static = None if self._batcher is None else compiled_actions(*act, self._batcher)
        self._act_dynamic = compiled_actions(*act, self._to_dynamic_graph)

    # ----------------------------------------------------------------------------- training
    def fit(self, steps: int, callbacks=None, progress_bar: bool = True):
        """Trains for `steps` environment steps (each a joint step of all agents).

        Args:
          steps: number of environment steps to run in this call; `fit` can be called again
            (or after `load`) to continue, the step count carries over.
          callbacks: a `keras_ip.callbacks.Callback` or a list of them.
          progress_bar: print progress lines (steps, speed, team return, losses).
        Returns:
          self.
        """
        steps = check_int("steps", steps)
        callback = callbacks_lib.callback_list(self, callbacks, progress_bar)
        c = self.config
        if self._collector is None or (self._collector.num_envs, self._collector.kind) != (c.n_envs, c.collector):
            self._close_collector()
            self._collector = Collector(self.env, self.adapter, c.n_envs, self.graph_schedule, self._next_env_seed,
                                        c.collector)
        if self.replay is None or not self._replay_matches_config():
            self._discard_replay("n_envs, buffer_size, replay_dtype or replay_on_device changed")
            self.replay = self._make_replay()
        self._collector.replay = self.replay
        callback.on_training_start(steps)
        collected = 0
        while collected < steps:
            for episode in self._collector.step(self._collection_policy):
                self.logger.record_episode(episode.team_return, episode.length)
            self.num_timesteps += self._collector.num_envs
            collected += self._collector.num_envs
            updates = self._updates_due()
            for _ in range(updates):
                metrics = self.learner.train_step(self.replay.sample(c.batch_size, self._rng))
            if updates:
                self.num_updates += updates
                self.logger.record_train(metrics)
            if not callback.on_step():
                break
        self.logger.dump(self.num_timesteps)
        callback.on_training_end()
        return self

    def close(self):
        """Ends the worker processes of `fit`'s environment copies and closes the environment (which
        frees a simulator: libsumo runs one simulation per process). The agent still predicts, saves and
        exports; `with IPAgent(...) as agent:` closes it at the end of the block. On the chief of several
        worker processes (`keras_ip.distributed`) it also ends the workers' update loops."""
        self._close_collector()
        release_workers = getattr(self.learner, "release_workers", None)
        if release_workers is not None:
            release_workers()
        self.env.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def _close_collector(self):
        if self._collector is not None:
            self._collector.close()
            self._collector = None

    def _replay_matches_config(self) -> bool:
        """True when the replay has the layout the config asks for (streams, capacity, dtype, device)."""
        c, replay = self.config, self.replay
        return (len(replay.buffers) == c.n_envs and replay.capacity == c.buffer_size
                and replay.obs_dtype == np.dtype(c.replay_dtype)
                and (replay.buffer_type is DeviceReplayBuffer) == c.replay_on_device)

    def _discard_replay(self, reason: str):
        """Drops the replay buffer, warning when it held transitions."""
        if self.replay is not None and len(self.replay):
            warnings.warn(f"The replay buffer is rebuilt because {reason}; its {len(self.replay)} transitions are "
                          "discarded, and updates wait until the new buffer holds learning_starts transitions.",
                          stacklevel=3)
        self.replay = None

    def _updates_due(self) -> int:
        """gradient_steps updates for every multiple of train_freq the last collection step passed,
        once the replay holds learning_starts transitions (counted in the current buffer, so an agent
        loaded without its replay refills it before updating)."""
        c = self.config
        if len(self.replay) < max(c.learning_starts, 1):
            return 0
        previous = self.num_timesteps - self._collector.num_envs
        return c.gradient_steps * (self.num_timesteps // c.train_freq - previous // c.train_freq)

    def _collection_policy(self, observations, graphs, alive, positions):
        """The actions `fit` collects with: uniformly random before learning_starts, then samples of the
        policy; fixed groups act by their fixed policies (see `Collector.step` for the arguments)."""
        if self.num_timesteps < self.config.learning_starts:
            actions = np.stack([self.adapter.random_actions(self._rng) for _ in range(len(observations))])
        else:
            actions = self._act(observations, False, graphs)
        return self.group_policies.apply(actions, observations, alive, self._fixed_rng, positions)

    def _next_env_seed(self):
        """Each reset's seed, drawn from the agent's generator (seeded by config.seed); None unseeded."""
        if self.config.seed is None:
            return None
        return int(self._rng.integers(2**31 - 1))

    # ----------------------------------------------------------------------------- acting
    def predict(self, observations, deterministic: bool = True, graph=None, env=None, positions=None):
        """Every agent's action: for the environment's observation dict, or for stacked arrays.

        Example (the loop a PettingZoo user writes):
          >>> observations, infos = env.reset(seed=0)
          >>> while env.agents:
          ...     observations, rewards, terminations, truncations, infos = env.step(
          ...         agent.predict(observations, env=env))   # env= only needed for graph="knn"

        Args:
          observations: the dict {agent: observation} that `env.reset()` / `env.step()`
            return (agents absent from it, e.g. dead ones, get no action); or stacked float
            arrays [N, d] (one joint state) / [B, N, d], rows in `env.possible_agents` order,
            zero-padded to the largest group's observation size.
          deterministic: greedy actions (True) or samples from the policy.
          graph: the `keras_ip.graphs.Graph` the agents communicate over (optional; defaults
            to the agent's static graph). For a dynamic graph (graph="knn") give one of
            graph, env or positions.
          env: the environment the observations came from; with graph="knn" the agent reads
            the agents' positions from it and builds its k-NN graph (ignored otherwise).
          positions: float [N, 2] agent positions in agent order, instead of env.
        Returns:
          for a dict, {agent: action} for the agents in it, each as its action space takes it
          (int for Discrete, an array of the space's shape for Box), ready for `env.step`;
          for arrays, int32 [N] / [B, N] (discrete) or float32 [N, k] / [B, N, k] within the
          action bounds. Agents of groups with a fixed policy get that policy's actions.
        """
        if isinstance(observations, Mapping):
            batch = self.adapter.stack_observations(observations)[None]                  # [1, N, d]
            alive = np.isin(self.adapter.agents, list(observations))[None]                # [1, N]
        else:
            obs = np.asarray(observations, dtype=np.float32)
            batch = obs[None] if obs.ndim == 2 else obs
            expected = (self.adapter.num_agents, self.adapter.obs_dim)
            if batch.ndim != 3 or batch.shape[1:] != expected:
                raise ValueError(f"observations must be the environment's observation dict, or have shape {expected} "
                                 f"(one joint state) or [batch, {expected[0]}, {expected[1]}]. "
                                 f"Received shape {obs.shape}.")
            if not np.all(np.isfinite(batch)):
                raise ValueError("observations contain NaN or infinite values.")
            alive = np.ones(batch.shape[:2], bool)
        positions = self._prediction_positions(env, positions)
        actions = self._act(batch, bool(deterministic), self._prediction_graph(graph, positions))
        actions = self.group_policies.apply(actions, batch, alive, self._fixed_rng, lambda: None if positions is None
                                            else np.broadcast_to(positions, (len(batch),) + np.shape(positions)))
        if isinstance(observations, Mapping):
            return self.adapter.action_dict(actions[0], [a for a in self.adapter.agents if a in observations])
        return actions[0] if np.ndim(observations) == 2 else actions

    def _prediction_positions(self, env, positions):
        """`positions`, or with graph="knn" the agents' positions read from `env` (agents it no longer
        holds placed far from everyone), or None."""
        if positions is not None or env is None or self.graph_schedule is None:
            return positions
        positions = self.adapter.env_positions(env)
        if positions is None:
            raise ValueError(f"graph=\"knn\" needs agent positions, and {type(env).__name__} exposes none; "
                             "pass graph= or positions= to predict.")
        return np.where(np.isnan(positions), _FAR_AWAY * (1 + np.arange(len(positions)))[:, None], positions)

    def _prediction_graph(self, graph, positions):
        """The Graph `predict` acts on: `graph`, or a k-NN graph of `positions`, or None (the static graph)."""
        num_agents = self.adapter.num_agents
        if graph is None and self.graph_schedule is not None:
            if positions is None:
                raise ValueError('This agent uses graph="knn", rebuilt from positions; pass env= (the environment '
                                 "the observations came from), positions= (float [N, 2]) or graph= to predict.")
            positions = np.asarray(positions, np.float64)
            if positions.shape != (num_agents, 2) or not np.all(np.isfinite(positions)):
                raise ValueError(f"positions must be finite floats of shape ({num_agents}, 2). "
                                 f"Received: shape={positions.shape}")
            graph = self.graph_schedule.build(positions)
        if graph is not None and (not isinstance(graph, Graph) or graph.num_nodes != num_agents):
            raise ValueError(f"graph must be a keras_ip.graphs.Graph over {num_agents} agents. Received: {graph!r}")
        return graph

    def evaluate(self, episodes: int = 10, deterministic: bool = True, seed=None, metrics: bool = False):
        """Mean team return (sum of the learning agents' rewards over an episode: every agent's, unless
        some groups act by fixed policies) over `episodes` episodes.

        Uses the agent's environment; an unfinished training episode is abandoned, so the
        next `fit` starts a fresh one.

        Args:
          episodes: number of episodes.
          deterministic: greedy actions (True) or samples from the policy.
          seed: seeds episode e's reset with seed + e.
          metrics: also return the environment's own metrics.
        Returns:
          the mean team return (float); with metrics=True a dict {"team_return": ...} plus,
          for every numeric value in the agents' infos at an episode's last step (e.g.
          cooperative navigation's "coverage"), its mean over agents and episodes.
        """
        episodes = check_int("episodes", episodes)
        if self._collector is not None:
            self._collector.reset()
        returns, final_infos = [], []
        for episode in range(episodes):
            obs = self.adapter.reset(seed=None if seed is None else seed + episode)
            total, step, graph = 0.0, 0, None
            while True:
                if self.graph_schedule and self.graph_schedule.due(step):
                    graph = knn_graph(self.graph_schedule, self.adapter)
                actions = self._act(obs[None], bool(deterministic), graph)
                actions = self.group_policies.apply(actions, obs[None], self.adapter.alive[None], self._fixed_rng,
                                                    lambda: _with_copy_axis(self.adapter.positions()))
                obs, rewards, _, _, infos = self.adapter.step(actions[0])
                total, step = total + float(np.sum(rewards[self.group_policies.trained])), step + 1
                if self.adapter.episode_over:
                    break
            returns.append(total)
            final_infos.append(infos)
        if not metrics:
            return float(np.mean(returns))
        return {"team_return": float(np.mean(returns)), **mean_numeric_infos(final_infos)}

    def get_params(self, deep: bool = True) -> dict:
        """The hyperparameters (config fields) as a dict, scikit-learn style."""
        del deep
        return self.config.to_dict()

    # ----------------------------------------------------------------------------- save / load
    def export(self, path) -> str:
        """Writes the policy as a SavedModel for TF Serving, with `assets.extra/keras_ip.json`
        describing its inputs (see `keras_ip.export`)."""
        return export_saved_model(self.policy_network, self.adapter.obs_dim, path, self.adapter.num_groups,
                                  self.serving_description())

    def serving_description(self) -> dict:
        """What a client needs to call the exported model (the JSON `export` writes beside it)."""
        a = self.adapter
        static = self.graph_schedule is None
        description = {
            "algorithm": type(self).__name__, "agents": a.agents, "group_names": a.group_names,
            "groups": a.group_ids.tolist(), "has_groups": a.num_groups > 1, "obs_dim": a.obs_dim,
            "obs_sizes": np.asarray(a.group_obs_dims)[a.group_ids].tolist(),
            "senders": self.graph.senders.tolist() if static else None,
            "receivers": self.graph.receivers.tolist() if static else None,
            "knn_k": None if static else self.graph_schedule.k,
            "trained": self.group_policies.trained.tolist()}
        if a.discrete:
            description.update(action_space="discrete",
                               num_actions=np.asarray(a.group_num_actions)[a.group_ids].tolist())
        else:
            description.update(action_space="box", low=a.action_low.tolist(), high=a.action_high.tolist())
        return description

    def save(self, path, include_replay: bool = False) -> str:
        """Saves config, graph, weights, optimiser state, counters, a SavedModel and
        (optionally) the replay buffer into directory `path`.

        The directory is written next to `path` and swapped in at the end, so an
        interrupted save leaves the previous save intact.
        """
        return persistence.save_agent(self, path, include_replay)

    def _checkpoint(self) -> tf.train.Checkpoint:
        return tf.train.Checkpoint(act_generator=self._act_generator, **self.learner.checkpoint_objects())

    @classmethod
    def load(cls, path, env=None, fixed_policies=None):
        """Restores an agent written by `save`: weights, optimiser state, step count, config,
        which groups learn.

        Args:
          path: the directory given to `save`.
          env: the environment to attach; None re-creates it from the registered name it
            was saved with.
          fixed_policies: the fixed groups' policies, as given to the constructor. "random"
            is saved; a callable or an agent is not and must be passed again (a group whose
            one is missing acts at random, with a warning).
        """
        return persistence.load_agent(cls, path, env, fixed_policies)


def _with_copy_axis(positions):
    """[N, 2] positions -> [1, N, 2], or None."""
    return None if positions is None else positions[None]


def mean_numeric_infos(final_infos: list) -> dict:
    """Mean over episodes and agents of every numeric info value: [{agent: {key: value}}] -> {key: mean}."""
    values = {}
    for infos in final_infos:
        for info in infos.values():
            for key, value in info.items():
                if isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
                    values.setdefault(key, []).append(float(value))
    return {key: float(np.mean(v)) for key, v in values.items()}

