"""Turns IPAgent's `graph=` argument into a `Graph` for a given environment."""

from __future__ import annotations

import math

from keras_ip.graphs import topology

RANDOM_GRAPH_NEIGHBOURS = 3  # the paper's "IP(neighbors=3)+random" ablation (F.2)


def resolve_graph(spec, env, num_agents: int, seed=None) -> topology.Graph:
    """The agent graph for `env`.

    Args:
      spec: a `Graph`; a callable env -> Graph; or a name:
        "grid": the environment's own grid (`env.grid_shape` = (rows, cols)), or a square
          lattice when N is a perfect square;
        "full": every pair of agents;
        "random": 3 random neighbours per agent, made symmetric (seeded by `seed`).
      env: the PettingZoo environment (its `unwrapped` is inspected).
      num_agents: N.
    Returns:
      a `Graph` with N nodes. Raises ValueError when the spec cannot apply to `env`.
    """
    base = getattr(env, "unwrapped", env)
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
    elif spec == "random":
        graph = topology.random(num_agents, min(RANDOM_GRAPH_NEIGHBOURS, num_agents - 1), seed)
    else:
        raise ValueError('graph must be "grid", "full", "random", a keras_ip.graphs.Graph or a callable '
                         f"env -> Graph. Received: graph={spec!r}")
    if graph.num_nodes != num_agents:
        raise ValueError(f"The graph has {graph.num_nodes} nodes but the environment has {num_agents} agents.")
    return graph


def _grid_for(env, num_agents: int) -> topology.Graph:
    shape = getattr(env, "grid_shape", None)
    if shape is not None:
        return topology.grid(*shape)
    side = math.isqrt(num_agents)
    if side * side != num_agents:
        raise ValueError(f'graph="grid" needs env.grid_shape or a square number of agents; the environment has '
                         f"{num_agents} agents. Pass a keras_ip.graphs.Graph instead.")
    return topology.grid(side, side)
