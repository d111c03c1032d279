"""`Collector`: K environment copies stepped with one policy call per step, their transitions
written to the replay.

The collector owns what collection needs between steps: the vector of copies
(`keras_ip.envs.vector`), the last observations, which agents are still in each copy's
episode, each copy's episode clock and running return, and with a dynamic graph (graph="knn")
each copy's current k-NN graph, rebuilt when that copy's clock is due and at its reset.

Its interface:
  reset()            the next `step` starts new episodes in every copy;
  step(policy)       one step of every copy -> the episodes that ended (their return and
                     length), after writing the K transitions to `replay`;
  close()            ends what it opened (worker processes, Ray actors).

Who steps the copies: `kind="local"` (`keras_ip.envs.vector.vector_env`: in this process, as one
numpy batch, or in worker processes) or `kind="ray"` (`keras_ip.envs.ray_vector.RayVector`:
Ray actors, here or on a cluster). Either way the learner's process acts for every copy in one
policy call per step. A Ray copy whose worker died during a step is restarted by the vector and
marked lost: its transition of that step is not written, its episode is not reported, and it
starts a new episode (seeded as any other reset).
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

from keras_ip.envs.adapter import ParallelEnvAdapter
from keras_ip.envs.vector import AdapterVector, vector_env
from keras_ip.graphs.dynamic import KNN
from keras_ip.graphs.topology import Graph


class Episode(NamedTuple):
    """A finished episode of one copy: team return (sum of every agent's rewards) and length in steps."""

    team_return: float
    length: int


def knn_graph(schedule: KNN, adapter: ParallelEnvAdapter, positions=None) -> Graph:
    """The k-NN graph of `positions` (float [N, 2]), or of the adapter's environment's current positions."""
    positions = adapter.positions() if positions is None else positions
    if positions is None:
        raise ValueError('graph="knn" needs agent positions, and this environment exposes none (keras-ip '
                         "scenarios, mpe2 and magent2 do). Pass a Graph or a callable env -> Graph instead.")
    return schedule.build(positions)


class Collector:
    """Collects joint transitions from K copies of an environment.

    Init args:
      env: the PettingZoo `ParallelEnv` (copied for K > 1: a numpy batch for keras-ip's
        particle scenarios, worker processes otherwise).
      adapter: its `ParallelEnvAdapter` (the K = 1 copy steps through it).
      num_envs: K.
      graph_schedule: a `KNN` for dynamic graphs, or None for a static graph.
      next_seed: callable () -> the seed of the next reset (int or None); copy k gets seed + k.
      kind: "local" or "ray" (module docstring).

    Attributes:
      replay: the `ReplayStreams` transitions are written to (stream k for copy k); set by
        the owner before `step`.
      num_envs: K.
    """

    def __init__(self, env, adapter: ParallelEnvAdapter, num_envs: int, graph_schedule: KNN | None,
                 next_seed: Callable[[], int | None], kind: str = "local"):
        self.adapter, self.graph_schedule, self._next_seed, self.kind = adapter, graph_schedule, next_seed, kind
        if kind == "ray":
            from keras_ip.envs.ray_vector import RayVector  # pylint: disable=import-outside-toplevel

            self.vector = RayVector(env, num_envs)
        elif kind == "local":
            self.vector = AdapterVector(adapter) if num_envs == 1 else vector_env(env, num_envs)
        else:
            raise ValueError(f'kind must be "local" or "ray". Received: kind={kind!r}')
        self.num_envs = self.vector.num_envs
        self.replay = None
        self.reset()

    def reset(self):
        """Abandons the copies' episodes: the next `step` resets every copy first."""
        self._observations = None   # float32 [K, N, d], the copies' current observations
        self._graphs = None         # one Graph per copy (dynamic graphs only)

    def close(self):
        """Ends the worker processes or Ray actors, if any."""
        self.vector.close()

    def step(self, policy) -> list:
        """One step of every copy with one call of `policy`; writes the K transitions to `replay`.

        Args:
          policy: callable (observations float32 [K, N, d], graphs (list of K Graphs, or None
            for the static graph), alive bool [K, N], positions (callable -> [K, N, 2] or None))
            -> actions [K, N] or [K, N, k].
        Returns:
          the `Episode`s that ended at this step (one per copy whose episode is over).
        """
        if self._observations is None:
            self._start_episodes()
        observations, graphs = self._observations, self._graphs
        actions = policy(observations, graphs, self._alive, self.vector.positions)
        next_observations, rewards, terminated, truncated, over = self.vector.step(actions)
        lost = getattr(self.vector, "lost", np.zeros(self.num_envs, bool))  # [K] copies whose worker died
        over = over | lost
        self._length += 1
        if self.graph_schedule:
            self._graphs = self._rebuilt(graphs, [self.graph_schedule.due(int(n)) for n in self._length])
        for k in np.flatnonzero(~lost):
            edges = {} if graphs is None else dict(edges=(graphs[k].senders, graphs[k].receivers),
                                                   next_edges=(self._graphs[k].senders, self._graphs[k].receivers))
            self.replay.add(k, observations[k], actions[k], rewards[k], next_observations[k], terminated[k],
                            truncated[k], **edges)
        self._return += rewards.sum(axis=1)
        self._alive &= ~(terminated | truncated)
        finished = [Episode(float(self._return[k]), int(self._length[k])) for k in np.flatnonzero(over & ~lost)]
        if over.all():
            self.reset()
        elif over.any():  # worker copies end independently (never with the shared clock of a particle batch)
            self._observations = self.vector.reset_copies(over, seed=self._next_seed())
            self._return[over], self._length[over], self._alive[over] = 0.0, 0, True
            if self.graph_schedule:  # the new episodes' first graphs, not the old episodes' last
                self._graphs = self._rebuilt(self._graphs, over)
        else:
            self._observations = next_observations
        return finished

    def _start_episodes(self):
        self._observations = self.vector.reset(seed=self._next_seed())
        self._return, self._length = np.zeros(self.num_envs), np.zeros(self.num_envs, int)  # per copy
        self._alive = np.ones((self.num_envs, self.adapter.num_agents), bool)                # [K, N]
        if self.graph_schedule:
            self._graphs = self._rebuilt([None] * self.num_envs, [True] * self.num_envs)

    def _rebuilt(self, graphs: list, rebuild) -> list:
        """A new list of the copies' k-NN graphs: copy k's rebuilt from its current positions where rebuild[k]."""
        if not any(rebuild):
            return graphs
        positions = self.vector.positions()
        return [knn_graph(self.graph_schedule, self.adapter, None if positions is None else positions[k])
                if due else graph for k, (graph, due) in enumerate(zip(graphs, rebuild))]
