"""K copies of an environment on Ray actors, behind the array API of `keras_ip.envs.vector`.

Each actor is a process of its own (local, or on any node of a Ray cluster) holding
`envs_per_worker` copies, each behind a `ParallelEnvAdapter`, and answering the messages
ProcessVector's workers answer (`keras_ip.envs.vector.answer`). A step is one round trip:
every actor is sent its copies' actions, then the replies are gathered and stacked.

A copy whose actor dies (killed, crashed, its node lost) is restarted on a new actor and
reported in `RayVector.lost`; see `RayVector.step`.

Ray is optional: `pip install "keras-ip[distributed]"`.
"""

from __future__ import annotations

import copy
import functools
import importlib
import logging
import os
import warnings

import numpy as np

from keras_ip._checks import check_int
from keras_ip.envs.adapter import ParallelEnvAdapter
from keras_ip.envs.vector import answer, stack_steps

OBJECT_STORE_BYTES = 200 * 2**20  # a local Ray's object store: the messages are small arrays


def import_ray(address: str | None = None):
    """The `ray` module, initialised: as it is if `ray.init` was already called; else connected to
    the cluster at `address` ("auto", "host:port", "ray://host:port"); else a new local instance
    (no dashboard, workers' output not forwarded, a 200 MB object store, num_cpus = os.cpu_count()).

    A local instance started here is left running when the vectors using it close, for the next
    one in the process to reuse (starting Ray takes seconds); it ends with the process or
    `ray.shutdown()`.
    """
    try:
        ray = importlib.import_module("ray")
    except ImportError as error:
        raise ImportError('RayVector needs Ray, which keras-ip installs as an extra: '
                          'pip install "keras-ip[distributed]"') from error
    if not ray.is_initialized():
        if address is None:
            ray.init(num_cpus=os.cpu_count(), object_store_memory=OBJECT_STORE_BYTES, include_dashboard=False,
                     log_to_driver=False, logging_level=logging.ERROR)
        else:
            ray.init(address=address, log_to_driver=False, logging_level=logging.ERROR)
    return ray


class _Copies:
    """A Ray actor's environment copies: `count` environments from `make()`, each behind a `ParallelEnvAdapter`."""

    def __init__(self, make, count: int):
        self.adapters = [ParallelEnvAdapter(make()) for _ in range(count)]

    def ask(self, messages: list) -> list:
        """One (command, argument) message or None per copy -> each copy's `answer` (None for None)."""
        return [None if message is None else answer(adapter, *message)
                for adapter, message in zip(self.adapters, messages)]


class RayVector:
    """K copies of a PettingZoo environment on Ray actors, stepped in one round trip.

    Same API and transitions as `ProcessVector` (copy k is seeded seed + k), plus `lost`.

    Fault tolerance: when an actor is found dead (RayActorError, WorkerCrashedError) in any
    call, a new actor replaces it and resets each of its copies with the seed of that copy's
    latest reset (seed + k, or None), with a RuntimeWarning naming the copies and the error.
    Copies that the call was resetting get exactly the reset they asked for and are not lost.
    Copies that the call was stepping are reported lost by this `step`; any other copy of the
    actor (found dead by `reset_copies` or `positions`) is not stepped by the next `step`,
    which reports it lost. See `step` for what a lost copy's row holds. A failing restart raises.

    Example:
      >>> from keras_ip import make_env
      >>> vector = RayVector(make_env("majority_vote", rows=2, cols=3), num_envs=2)
      >>> vector.reset(seed=0).shape
      (2, 6, 2)
      >>> observations, rewards, terminated, truncated, over = vector.step(np.zeros((2, 6), int))
      >>> rewards.shape, over.shape, vector.lost.tolist()
      ((2, 6), (2,), [False, False])
      >>> vector.close()

    Init args:
      env: a PettingZoo `ParallelEnv`, deep-copied into every copy (so it must pickle; build it
        but do not reset it), or a zero-argument callable returning a new one on the actor
        (for environments that cannot be pickled).
      num_envs: K.
      envs_per_worker: copies per actor (the last actor holds the remainder when it does not
        divide K). Simulators that allow one instance per process (SUMO through libsumo) need 1.
      address: the Ray cluster to connect to when Ray is not yet initialised ("auto",
        "host:port", "ray://host:port"); None starts a local instance (see `import_ray`).
        keras-ip must be installed on the cluster's nodes.
      actor_options: overrides of the actors' Ray options (default num_cpus=0, so that K
        copies run on fewer cores, and scheduling_strategy="SPREAD" across a cluster's nodes).

    Attributes:
      num_envs: K.
      lost: bool [K], the copies whose transition the last `step` lost to a dead actor (all
        False after `reset`).
      actors: the Ray actor handles; actor j holds copies j * envs_per_worker, ... (its block).
    """

    def __init__(self, env, num_envs: int, envs_per_worker: int = 1, address: str | None = None,
                 actor_options: dict | None = None):
        self.num_envs = check_int("num_envs", num_envs)
        envs_per_worker = check_int("envs_per_worker", envs_per_worker)
        if envs_per_worker > self.num_envs:
            raise ValueError(f"envs_per_worker must be at most num_envs={self.num_envs}. "
                             f"Received: envs_per_worker={envs_per_worker}")
        if hasattr(env, "possible_agents"):
            make = functools.partial(copy.deepcopy, env)
        elif callable(env):
            make = env
        else:
            raise TypeError(f"env must be a PettingZoo ParallelEnv or a zero-argument callable returning one. "
                            f"Received: env={env!r}")
        self._ray = import_ray(address)
        self._actor_errors = (self._ray.exceptions.RayActorError, self._ray.exceptions.WorkerCrashedError)
        self._make = self._ray.put(make)  # pickled once for every actor
        self._actor_class = self._ray.remote(_Copies).options(
            **{"num_cpus": 0, "scheduling_strategy": "SPREAD", **(actor_options or {})})
        self._blocks = [range(start, min(start + envs_per_worker, self.num_envs))
                        for start in range(0, self.num_envs, envs_per_worker)]  # actor j's copies
        self.actors = [self._actor_class.remote(self._make, len(block)) for block in self._blocks]
        self._ray.get([actor.__ray_ready__.remote() for actor in self.actors])  # raises the envs' build errors
        self._seeds = [None] * self.num_envs       # each copy's seed at its latest reset
        self._latest = [None] * self.num_envs      # each copy's current observations
        self._stale = np.zeros(self.num_envs, bool)  # restarted outside `step`: reported lost at the next one
        self.lost = np.zeros(self.num_envs, bool)

    def reset(self, seed: int | None = None) -> np.ndarray:
        """Starts new episodes in every copy (copy k with seed + k). Returns observations float32 [K, N, d]."""
        self.lost = np.zeros(self.num_envs, bool)
        return self.reset_copies(np.ones(self.num_envs, bool), seed)

    def reset_copies(self, over, seed: int | None = None) -> np.ndarray:
        """Resets the copies where `over` (bool [K]) is True, copy k with seed + k (or None).

        Returns every copy's current observations float32 [K, N, d]. A copy not in `over`
        whose actor died meanwhile is returned freshly reset and reported lost at the next `step`.
        """
        over = np.asarray(over)
        if over.shape != (self.num_envs,):
            raise ValueError(f"over must be a bool array of shape ({self.num_envs},). Received: over={over.tolist()}")
        over = over.astype(bool)
        for k in np.flatnonzero(over):
            self._seeds[k] = None if seed is None else seed + int(k)
        answers, restarted = self._ask([("reset", self._seeds[k]) if done else None for k, done in enumerate(over)])
        self._latest = [new if fresh else old for new, old, fresh in zip(answers, self._latest, over | restarted)]
        self._stale = (self._stale | restarted) & ~over
        return np.stack(self._latest)

    def step(self, actions):
        """One step of every copy.

        Args:
          actions: [K, N] (Discrete) or [K, N, k] (Box), copy k's actions in row k.
        Returns:
          observations float32 [K, N, d], rewards float32 [K, N], terminated bool [K, N],
          truncated bool [K, N], episode_over bool [K].

        A copy whose actor died (during this call, or since the last one) is not stepped: a new
        actor is started for the dead actor's copies and resets each with the seed of its latest
        reset (seed + k; None stays None), a warning names the copies and the error, and `lost`
        is True for them. Their row of observations is that fresh reset; their rewards (zero),
        terminated and truncated (False) are placeholders that must not be used: drop those
        copies' transitions of this step. Their episode_over is True. Every other copy's row is
        exactly what its environment returned.
        """
        if len(actions) != self.num_envs:
            raise ValueError(f"actions must have one row per copy, {self.num_envs}. "
                             f"Received: actions of shape {np.shape(actions)}")
        answers, restarted = self._ask([None if stale else ("step", a) for a, stale in zip(actions, self._stale)])
        self.lost = restarted | self._stale
        self._stale = np.zeros(self.num_envs, bool)
        results = [_lost_step(answer if fresh else self._latest[k]) if lost else answer
                   for k, (answer, fresh, lost) in enumerate(zip(answers, restarted, self.lost))]
        self._latest = [r[0] for r in results]
        return stack_steps(results)

    def positions(self) -> np.ndarray | None:
        """Agent positions float [K, N, 2], or None if the environment has none."""
        positions, restarted = self._ask([("positions", None)] * self.num_envs)
        if restarted.any():  # those copies were reset: their observations changed, and the next step reports them
            self._latest = [new if fresh else old for new, old, fresh in zip(positions, self._latest, restarted)]
            self._stale |= restarted
            return self.positions()
        return None if positions[0] is None else np.stack(positions)

    def close(self):
        """Kills the actors (safe to call twice). Ray itself stays up (see `import_ray`)."""
        for actor in self.actors:
            self._ray.kill(actor)
        self.actors = []

    def _ask(self, messages: list) -> tuple:
        """One message or None per copy -> (answers, restarted bool [K]): each copy's `answer`, and for the
        copies of actors that died, restarted True and the answer their observations after the restart."""
        futures = [self.actors[j].ask.remote([messages[k] for k in block])
                   if any(messages[k] is not None for k in block) else None for j, block in enumerate(self._blocks)]
        answers, restarted = [None] * self.num_envs, np.zeros(self.num_envs, bool)
        for j, (block, future) in enumerate(zip(self._blocks, futures)):
            if future is None:
                continue
            try:
                answers[block.start:block.stop] = self._ray.get(future)
            except self._actor_errors as error:
                answers[block.start:block.stop] = self._restart(j, error)
                restarted[block.start:block.stop] = True
        return answers, restarted

    def _restart(self, j: int, error: Exception) -> list:
        """Replaces dead actor j by a new one and resets its copies with their latest seeds -> their observations."""
        block = self._blocks[j]
        seeds = [self._seeds[k] for k in block]
        reason = (str(error).strip().splitlines() or [""])[0]
        warnings.warn(f"The Ray actor of environment copies {list(block)} died ({type(error).__name__}: {reason}); "
                      f"restarted them and reset them with seeds {seeds} (see RayVector.lost).", RuntimeWarning,
                      stacklevel=4)
        self._ray.kill(self.actors[j])
        self.actors[j] = self._actor_class.remote(self._make, len(block))
        return self._ray.get(self.actors[j].ask.remote([("reset", seed) for seed in seeds]))


def _lost_step(observations: np.ndarray) -> tuple:
    """The placeholder step of a lost copy: its fresh observations [N, d], zero rewards, not
    terminated or truncated, episode over."""
    num_agents = len(observations)
    return observations, np.zeros(num_agents, np.float32), np.zeros(num_agents, bool), np.zeros(num_agents, bool), True
