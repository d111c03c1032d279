"""Agent graphs: who talks to whom.

A `Graph` is a set of directed edges sender -> receiver over `num_nodes` agents, sorted
by (receiver, sender), with no self loops and no duplicates: agent i aggregates messages
from the senders of the edges it receives. The builders for undirected topologies
(`grid`, `full`, `random`, `from_edges`, `knn(..., symmetric=True)`) store every link in
both directions; `knn(..., symmetric=False)` gives the directed graph in which each agent
listens to its k nearest agents (exactly N * k edges, a fixed size for dynamic graphs).
`Graph.reverse` maps each edge to its reverse edge, or -1 where there is none (used by
loopy belief propagation, paper appendix B.2).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from keras_ip._checks import check_int, is_int


@dataclasses.dataclass(frozen=True, eq=False)
class Graph:
    """A symmetric directed graph over agents, in canonical edge order.

    Attributes:
      num_nodes: number of agents N.
      senders: int32 [E], the agent each directed edge starts at.
      receivers: int32 [E], the agent each directed edge ends at.

    Build it with `from_edges` or one of the topology builders rather than directly;
    the constructor only checks, it does not symmetrise or sort. It raises ValueError on a
    self loop (an agent would receive its own action as a neighbour's) and on a duplicate
    edge (that neighbour would count twice), naming the edges.
    """

    num_nodes: int
    senders: np.ndarray
    receivers: np.ndarray

    def __post_init__(self):
        _check_edge_arrays(self.num_nodes, self.senders, self.receivers)
        _check_simple(self.num_nodes, np.asarray(self.senders), np.asarray(self.receivers))
        object.__setattr__(self, "senders", np.array(self.senders, np.int32))  # own copies, frozen below
        object.__setattr__(self, "receivers", np.array(self.receivers, np.int32))
        self.senders.setflags(write=False)
        self.receivers.setflags(write=False)

    @property
    def num_edges(self) -> int:
        """Number of directed edges E (twice the number of undirected links)."""
        return int(self.senders.shape[0])

    @property
    def reverse(self) -> np.ndarray:
        """int32 [E]: index of the edge receiver[e] -> sender[e], or -1 if the graph lacks it."""
        if "_reverse" not in self.__dict__:
            reverse = reverse_edge_index(self.senders, self.receivers, self.num_nodes)
            reverse.setflags(write=False)
            object.__setattr__(self, "_reverse", reverse)
        return self.__dict__["_reverse"]

    def degrees(self) -> np.ndarray:
        """int32 [N]: number of neighbours of each agent."""
        return np.bincount(self.receivers, minlength=self.num_nodes).astype(np.int32)

    def neighbours(self, node: int) -> np.ndarray:
        """int32 [degree]: the neighbours of `node`, ascending."""
        return self.senders[self.receivers == node]

    def adjacency(self) -> np.ndarray:
        """bool [N, N] dense adjacency matrix, for tests and small graphs only."""
        dense = np.zeros((self.num_nodes, self.num_nodes), dtype=bool)
        dense[self.senders, self.receivers] = True
        return dense

    def __eq__(self, other):
        if not isinstance(other, Graph):
            return NotImplemented
        return (self.num_nodes == other.num_nodes and np.array_equal(self.senders, other.senders)
                and np.array_equal(self.receivers, other.receivers))

    def __hash__(self):
        return hash((self.num_nodes, self.senders.tobytes(), self.receivers.tobytes()))

    @property
    def symmetric(self) -> bool:
        """True when every edge has a reverse edge."""
        return bool(np.all(self.reverse >= 0))

    def __repr__(self):
        return f"Graph(num_nodes={self.num_nodes}, num_edges={self.num_edges})"


def _check_edge_arrays(num_nodes, senders, receivers):
    check_int("num_nodes", num_nodes)
    senders, receivers = np.asarray(senders), np.asarray(receivers)
    for name, array in (("senders", senders), ("receivers", receivers)):
        if array.ndim != 1:
            raise ValueError(f"{name} must be a 1-D array of node indices. Received shape {array.shape}.")
        if array.size and not np.issubdtype(array.dtype, np.integer):
            raise ValueError(f"{name} must hold integers. Received dtype {array.dtype}.")
        if array.size and (array.min() < 0 or array.max() >= num_nodes):
            bad = array[(array < 0) | (array >= num_nodes)][0]
            raise ValueError(f"{name} holds node index {bad}, out of range for num_nodes={num_nodes}.")
    if senders.shape != receivers.shape:
        raise ValueError(f"senders and receivers must have the same length. Received {senders.shape[0]} "
                         f"and {receivers.shape[0]}.")


def _check_simple(num_nodes, senders, receivers, shown: int = 5):
    """Raises ValueError naming the first `shown` self loops, else duplicate edges."""
    loops = senders == receivers
    if np.any(loops):
        names = ", ".join(f"{s} -> {s}" for s in senders[loops][:shown])
        raise ValueError(f"Graph has {int(loops.sum())} self loops (an agent is not its own neighbour): {names}.")
    keys, counts = np.unique(receivers.astype(np.int64) * num_nodes + senders, return_counts=True)
    if np.any(counts > 1):
        names = ", ".join(f"{key % num_nodes} -> {key // num_nodes} ({count} times)"
                          for key, count in zip(keys[counts > 1][:shown], counts[counts > 1][:shown]))
        raise ValueError(f"Graph has duplicate edges: {names}. Each edge may appear once; `from_edges` "
                         f"merges duplicate links.")


def reverse_edge_index(senders: np.ndarray, receivers: np.ndarray, num_nodes: int) -> np.ndarray:
    """For each directed edge s -> r, the index of the edge r -> s, or -1 if there is none.

    Args:
      senders: int [E] sender node indices (no duplicate edges).
      receivers: int [E] receiver node indices.
      num_nodes: N, to form the keys s * N + r.

    Returns:
      int32 [E].
    """
    keys = senders.astype(np.int64) * num_nodes + receivers
    reverse_keys = receivers.astype(np.int64) * num_nodes + senders
    order = np.argsort(keys, kind="stable")
    position = np.minimum(np.searchsorted(keys[order], reverse_keys), max(len(keys) - 1, 0))
    if not len(keys):
        return np.zeros(0, np.int32)
    found = keys[order][position] == reverse_keys
    return np.where(found, order[position], -1).astype(np.int32)


def from_edges(num_nodes: int, edges) -> Graph:
    """A graph from a list of links, made symmetric.

    Args:
      num_nodes: number of agents N.
      edges: int array-like [L, 2] of (i, j) pairs; each link is used in both
        directions. Duplicate links ((i, j) twice, or both (i, j) and (j, i)) are merged
        into one; a self loop (i, i) raises ValueError.

    Returns:
      The canonical `Graph`.

    Example:
      >>> from_edges(3, [(0, 1), (1, 2)]).num_edges
      4
    """
    edges = np.asarray(edges)
    if edges.size == 0:
        edges = edges.reshape(0, 2)
    if edges.ndim != 2 or edges.shape[1] != 2:
        raise ValueError(f"edges must have shape [num_links, 2]. Received shape {edges.shape}.")
    _check_edge_arrays(num_nodes, edges[:, 0], edges[:, 1])
    if np.any(edges[:, 0] == edges[:, 1]):
        loop = int(edges[edges[:, 0] == edges[:, 1]][0, 0])
        raise ValueError(f"Self loop {loop} -> {loop} in edges; an agent is not its own neighbour.")
    both = np.concatenate([edges, edges[:, ::-1]]).astype(np.int64)
    keys = np.unique(both[:, 1] * num_nodes + both[:, 0])  # sorted by (receiver, sender)
    return Graph(num_nodes, (keys % num_nodes).astype(np.int32), (keys // num_nodes).astype(np.int32))


def grid(rows: int, cols: int) -> Graph:
    """The 4-neighbour lattice of a road grid; agent r * cols + c sits at row r, column c.

    Example:
      >>> grid(2, 2).adjacency().sum()
      8
    """
    check_int("rows", rows)
    check_int("cols", cols)
    index = np.arange(rows * cols).reshape(rows, cols)
    horizontal = np.stack([index[:, :-1].ravel(), index[:, 1:].ravel()], axis=1)
    vertical = np.stack([index[:-1, :].ravel(), index[1:, :].ravel()], axis=1)
    return from_edges(rows * cols, np.concatenate([horizontal, vertical]))


def full(n: int) -> Graph:
    """Every agent is every other agent's neighbour: N (N - 1) directed edges."""
    check_int("n", n)
    i, j = np.triu_indices(n, k=1)
    return from_edges(n, np.stack([i, j], axis=1))


def empty(n: int) -> Graph:
    """No edges: every agent on its own (independent learners; every neighbour aggregate is 0)."""
    check_int("n", n)
    return from_edges(n, np.zeros([0, 2], np.int32))


def knn(positions, k: int, symmetric: bool = True) -> Graph:
    """Each agent's k nearest agents (Euclidean) as its neighbours.

    symmetric=True links both ways, so an agent may have more than k neighbours (when it
    is among the k nearest of others). symmetric=False keeps the directed graph in which
    agent i receives from exactly its k nearest agents: N * k edges, whatever the
    positions, which is what a graph rebuilt every step needs (fixed shapes for XLA and
    the replay buffer). Ties are broken by the lower index. Cost O(N^2), in numpy.

    Args:
      positions: float [N, dims] agent positions.
      k: neighbours per agent, 1 <= k < N.
      symmetric: see above.
    """
    positions = np.asarray(positions, dtype=np.float64)
    if positions.ndim != 2:
        raise ValueError(f"positions must have shape [num_agents, dims]. Received shape {positions.shape}.")
    if not np.all(np.isfinite(positions)):
        raise ValueError("positions contain NaN or infinite values.")
    n = positions.shape[0]
    if not is_int(k) or not 1 <= k < n:
        raise ValueError(f"k must be an integer in [1, num_agents - 1] = [1, {n - 1}]. Received: k={k!r}")
    squared = np.sum((positions[:, None, :] - positions[None, :, :]) ** 2, axis=-1)
    np.fill_diagonal(squared, np.inf)
    nearest = np.argsort(squared, axis=1, kind="stable")[:, :k]  # [N, k]
    if symmetric:
        return from_edges(n, np.stack([np.repeat(np.arange(n), k), nearest.ravel()], axis=1))
    senders = np.sort(nearest, axis=1).ravel()  # canonical order: by receiver, then sender
    return Graph(n, senders, np.repeat(np.arange(n), k))


def random(n: int, k: int, seed=None) -> Graph:
    """Links each agent to k others drawn uniformly at random (paper F.2), made symmetric.

    Args:
      n: number of agents.
      k: random neighbours drawn per agent, 1 <= k < n.
      seed: int or None, for `numpy.random.default_rng`.
    """
    check_int("n", n, minimum=2)
    if not is_int(k) or not 1 <= k < n:
        raise ValueError(f"k must be an integer in [1, n - 1] = [1, {n - 1}]. Received: k={k!r}")
    rng = np.random.default_rng(seed)
    # Rank n-1 random keys per row (self excluded) and keep the k smallest: k distinct others.
    keys = rng.random((n, n))
    np.fill_diagonal(keys, np.inf)
    chosen = np.argpartition(keys, k - 1, axis=1)[:, :k]
    return from_edges(n, np.stack([np.repeat(np.arange(n), k), chosen.ravel()], axis=1))
