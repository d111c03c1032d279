"""Graphs rebuilt from agent positions during an episode (paper appendix F.2)."""

from __future__ import annotations

import dataclasses

import numpy as np

from keras_ip._checks import check_int
from keras_ip.graphs.topology import Graph, knn


@dataclasses.dataclass(frozen=True)
class KNN:
    """Each agent listens to its k nearest agents, recomputed every `every` steps.

    The graph is directed with exactly N * k edges (`knn(..., symmetric=False)`), so every
    transition's graph has the same shape: the replay buffer stores it per transition and
    the compiled update never retraces. The paper's ablation (figure 8f) finds updating
    every step best, then every 5, then every 10.

    Attributes:
      k: neighbours per agent (paper default 8; capped at N - 1).
      every: environment steps between rebuilds (1 = every step); the graph is also
        rebuilt at every reset.
    """

    k: int = 8
    every: int = 1

    def __post_init__(self):
        check_int("k", self.k)
        check_int("every", self.every)

    def num_edges(self, num_agents: int) -> int:
        """E = N * min(k, N - 1)."""
        return num_agents * min(self.k, num_agents - 1)

    def build(self, positions) -> Graph:
        """positions float [N, dims] -> the directed k-NN `Graph`."""
        positions = np.asarray(positions)
        return knn(positions, min(self.k, positions.shape[0] - 1), symmetric=False)

    def due(self, steps_into_episode: int) -> bool:
        """Whether the graph is rebuilt for the observation after `steps_into_episode` steps."""
        return steps_into_episode % self.every == 0
