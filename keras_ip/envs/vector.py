"""K copies of an environment behind one array API, for collecting with one action call.

  reset(seed) -> observations float32 [K, N, d]; copy k is seeded with seed + k (so K
      copies behave like K separate environments seeded seed, seed + 1, ...).
  step(actions [K, N] or [K, N, k]) -> (observations [K, N, d], rewards [K, N],
      terminated [K, N], truncated [K, N], episode_over bool [K]).
  reset_copies(over [K], seed) -> observations [K, N, d] with the copies in `over` reset.
  positions() -> float [K, N, 2] or None; close().

Three implementations, chosen by `vector_env`:
  - `AdapterVector`: one `ParallelEnvAdapter` (K = 1), the plain loop;
  - `ParticleVector`: the built-in particle scenarios, natively as one K-copy numpy batch;
  - `ProcessVector`: any PettingZoo environment, one worker process per copy, a pipe each.
`keras_ip.envs.ray_vector.RayVector` gives the same API with the copies on Ray actors.
"""

from __future__ import annotations

import copy
import inspect
import multiprocessing

import numpy as np

from keras_ip._checks import check_int
from keras_ip.envs.adapter import ParallelEnvAdapter
from keras_ip.envs.particles.base import ParticleParallelEnv


def vector_env(env, num_envs: int):
    """K copies of `env` (a PettingZoo ParallelEnv) behind the array API of this module."""
    num_envs = check_int("num_envs", num_envs)
    if num_envs == 1:
        return AdapterVector(ParallelEnvAdapter(env))
    if isinstance(env, ParticleParallelEnv):
        return ParticleVector(batch_copies(env.batch, num_envs))
    return ProcessVector([copy.deepcopy(env) for _ in range(num_envs)])


def batch_copies(batch, num_envs: int):
    """A new batch of the same scenario and options as `batch`, with `num_envs` copies."""
    parameters = inspect.signature(type(batch).__init__).parameters
    options = {name: getattr(batch, name) for name in parameters
               if name not in ("self", "num_envs", "seed") and hasattr(batch, name)}
    return type(batch)(num_envs, **options)


class AdapterVector:
    """One environment through its `ParallelEnvAdapter`, as a vector of K = 1."""

    num_envs = 1

    def __init__(self, adapter: ParallelEnvAdapter):
        self.adapter = adapter

    def reset(self, seed=None) -> np.ndarray:
        return self.adapter.reset(seed=seed)[None]

    def reset_copies(self, over, seed=None) -> np.ndarray:
        return self.reset(seed)

    def step(self, actions):
        observations, rewards, terminated, truncated, _ = self.adapter.step(actions[0])
        return (observations[None], rewards[None], terminated[None], truncated[None],
                np.array([self.adapter.episode_over]))

    def positions(self):
        positions = self.adapter.positions()
        return None if positions is None else positions[None]

    def close(self):
        pass


class ParticleVector:
    """K copies of a built-in particle scenario stepped as one numpy batch (one shared episode clock)."""

    def __init__(self, batch):
        self.batch = batch
        self.num_envs = batch.num_envs

    def reset(self, seed=None) -> np.ndarray:
        return self.batch.reset(seed)

    def reset_copies(self, over, seed=None) -> np.ndarray:
        if not np.all(over):
            raise ValueError("The copies of a particle batch share one episode clock and reset together. "
                             f"Received: over={np.asarray(over).tolist()}")
        return self.reset(seed)

    def step(self, actions):
        observations, rewards, terminated, truncated = self.batch.step(actions)
        return observations, rewards, terminated, truncated, np.all(terminated | truncated, axis=1)

    def positions(self):
        return self.batch.agent_positions()

    def close(self):
        pass


def answer(adapter: ParallelEnvAdapter, command: str, argument):
    """One copy's reply to a worker message: "reset" (argument: the seed) -> observations [N, d];
    "step" (argument: actions [N] or [N, k]) -> (observations, rewards, terminated, truncated,
    episode_over); "positions" -> float [N, 2] or None."""
    if command == "reset":
        return adapter.reset(seed=argument)
    if command == "step":
        return adapter.step(argument)[:4] + (adapter.episode_over,)
    return adapter.positions()


def stack_steps(results: list) -> tuple:
    """K copies' `answer`s to "step" -> (observations [K, N, d], rewards [K, N], terminated [K, N],
    truncated [K, N], episode_over bool [K])."""
    stacked = [np.stack([r[i] for r in results]) for i in range(4)]
    return (*stacked, np.array([r[4] for r in results]))


def _worker(pipe, env):
    """Runs one environment copy: answers (command, argument) messages until "close"."""
    adapter = ParallelEnvAdapter(env)
    while True:
        command, argument = pipe.recv()
        if command == "close":
            pipe.close()
            return
        pipe.send(answer(adapter, command, argument))


class ProcessVector:
    """K PettingZoo environments, each in its own worker process with a pipe.

    Workers are forked (they run numpy and the environment only, never TensorFlow).
    """

    def __init__(self, envs: list):
        context = multiprocessing.get_context("fork")
        self.num_envs = len(envs)
        self._latest = [None] * self.num_envs  # each copy's current observations
        self._pipes, self._workers = [], []
        for env in envs:
            parent, child = context.Pipe()
            worker = context.Process(target=_worker, args=(child, env), daemon=True)
            worker.start()
            child.close()
            self._pipes.append(parent)
            self._workers.append(worker)

    def _ask(self, messages: list) -> list:
        for pipe, message in zip(self._pipes, messages):
            if message is not None:
                pipe.send(message)
        return [None if message is None else pipe.recv() for pipe, message in zip(self._pipes, messages)]

    def reset(self, seed=None) -> np.ndarray:
        return self.reset_copies(np.ones(self.num_envs, bool), seed)

    def reset_copies(self, over, seed=None) -> np.ndarray:
        """Resets the copies in `over` (copy k with seed + k); returns every copy's current observations."""
        seeds = [None if seed is None else seed + k for k in range(self.num_envs)]
        answers = self._ask([("reset", s) if done else None for s, done in zip(seeds, over)])
        self._latest = [new if done else old for new, old, done in zip(answers, self._latest, over)]
        return np.stack(self._latest)

    def step(self, actions):
        results = self._ask([("step", a) for a in actions])
        self._latest = [r[0] for r in results]
        return stack_steps(results)

    def positions(self):
        positions = self._ask([("positions", None)] * self.num_envs)
        return None if positions[0] is None else np.stack(positions)

    def close(self):
        for pipe in self._pipes:
            pipe.send(("close", None))
        for worker in self._workers:
            worker.join(timeout=5)
