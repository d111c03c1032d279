"""Turns IPAgent's `graph=` argument into a `Graph` for a given environment."""

from __future__ import annotations

import math

from keras_ip.graphs import topology
from keras_ip.graphs.dynamic import KNN

RANDOM_GRAPH_NEIGHBOURS = 3  # the paper's "IP(neighbors=3)+random" ablation (F.2)
KNN_NEIGHBOURS = 8  # the paper's best k on cooperative navigation (F.2, figure 8c)


def resolve_graph(spec, env, num_agents: int, seed=None, k=None, every: int = 1):
    """The agent graph for `env`: a static `Graph`, or a `KNN` rebuilt from positions.

    Args:
      spec: a `Graph`; a `KNN`; a callable env -> Graph; or a name:
        "grid": the environment's own graph (`env.default_graph()`, e.g. the road network of
          the traffic environment), else its grid (`env.grid_shape` = (rows, cols)), else a
          square lattice when N is a perfect square;
        "full": every pair of agents;
        "none": no edges, every agent on its own (independent learners: every message and
          neighbour aggregate is 0);
        "random": k (default 3) random neighbours per agent, made symmetric (seeded);
        "knn": each agent's k (default 8) nearest agents, rebuilt every `every` steps
          from the environment's agent positions.
      env: the PettingZoo environment (its `unwrapped` is inspected).
      num_agents: N.
      seed: seeds graph="random".
      k, every: see "random" and "knn".
    Returns:
      a `Graph` with N nodes or a `KNN`. Raises ValueError when the spec cannot apply.
    """
    base = getattr(env, "unwrapped", env)
    if spec == "knn":
        spec = KNN(KNN_NEIGHBOURS if k is None else k, every)
    if isinstance(spec, KNN):
        return spec
    if isinstance(spec, topology.Graph):
        graph = spec
    elif callable(spec):
        graph = spec(env)
        if not isinstance(graph, topology.Graph):
            raise ValueError(f"graph callable must return a keras_ip.graphs.Graph. Received: {type(graph).__name__}")
    elif spec == "grid":
        graph = _grid_for(base, num_agents)
    elif spec == "full":
        graph = topology.full(num_agents)
    elif spec == "none":
        graph = topology.empty(num_agents)
    elif spec == "random":
        graph = topology.random(num_agents, min(RANDOM_GRAPH_NEIGHBOURS if k is None else k, num_agents - 1), seed)
    else:
        raise ValueError('graph must be "grid", "full", "random", "knn", "none", a keras_ip.graphs.Graph, a '
                         f"keras_ip.graphs.KNN or a callable env -> Graph. Received: graph={spec!r}")
    if graph.num_nodes != num_agents:
        raise ValueError(f"The graph has {graph.num_nodes} nodes but the environment has {num_agents} agents.")
    return graph


def _grid_for(env, num_agents: int) -> topology.Graph:
    if callable(getattr(env, "default_graph", None)):
        return env.default_graph()
    shape = getattr(env, "grid_shape", None)
    if shape is not None:
        return topology.grid(*shape)
    side = math.isqrt(num_agents)
    if side * side != num_agents:
        raise ValueError(f'graph="grid" needs env.grid_shape or a square number of agents; the environment has '
                         f"{num_agents} agents. Pass a keras_ip.graphs.Graph instead.")
    return topology.grid(side, side)
