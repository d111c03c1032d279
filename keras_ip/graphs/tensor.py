"""The one place that turns per-agent arrays plus a topology into a `tfgnn.GraphTensor`.

Schema (shared by every layer of `keras_ip.layers`):
  node set "agents":      feature "hidden_state" float32 [total_agents, d]; with agent
                          groups, "group" int32 [total_agents] (which encoder a row needs);
                          plus whatever extra node features the caller passes;
                          for a static graph (`GraphBatcher`) also "in_neighbours" int32
                          [total_agents, max in-degree] (the senders of each agent's
                          incoming edges) and "out_neighbours" int32 [total_agents, max
                          out-degree] (the receivers of its outgoing edges), global indices
                          padded with -1, so layers sum over neighbours with a gather
                          instead of a scatter (see `keras_ip.layers.graph_ops.GraphOps`)
  edge set "neighbours":  source -> target over "agents";
                          feature "reverse" int32 [total_edges], the global index of the
                          reverse edge or -1 (loopy belief propagation needs it).

A batch of B joint states becomes one GraphTensor of B components; component b holds
agents b * N ... b * N + N - 1. For a static graph the flattened, offset index arrays
are built once per batch size and cached (`GraphBatcher`); for per-sample graphs
(senders/receivers given per batch row, `batch_graph_tensor`) the offsets and the
reverse-edge index are computed with TF ops.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf
import tensorflow_gnn as tfgnn

from keras_ip.graphs.topology import Graph

AGENTS = "agents"
NEIGHBOURS = "neighbours"
HIDDEN_STATE = tfgnn.HIDDEN_STATE
REVERSE = "reverse"
GROUP = "group"
IN_NEIGHBOURS = "in_neighbours"
OUT_NEIGHBOURS = "out_neighbours"


def padded_neighbour_lists(senders, receivers, num_nodes: int) -> tuple:
    """Each node's in- and out-neighbours as rows of a -1-padded matrix.

    Example: edges 0 -> 1, 2 -> 1, 1 -> 0 over 3 nodes give
      in_lists  = [[1, -1], [0, 2], [-1, -1]]   (senders of the edges into each node)
      out_lists = [[1], [0], [1]]               (receivers of the edges out of each node)

    Args:
      senders: int [E], the edges' senders (any order).
      receivers: int [E], their receivers.
      num_nodes: N.
    Returns:
      (in_lists int32 [N, max in-degree], out_lists int32 [N, max out-degree]); within a
      row neighbours keep their edge order; a graph without edges gives [N, 0] arrays.
    """
    senders, receivers = np.asarray(senders, np.int64), np.asarray(receivers, np.int64)

    def rows(keys, values):
        counts = np.bincount(keys, minlength=num_nodes)
        order = np.argsort(keys, kind="stable")
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        lists = np.full((num_nodes, counts.max(initial=0)), -1, np.int32)
        lists[keys[order], np.arange(len(keys)) - starts[keys[order]]] = values[order]
        return lists

    return rows(receivers, senders), rows(senders, receivers)


def assemble_graph_tensor(node_features: dict, senders, receivers, reverse, num_components, nodes_per_component,
                          edges_per_component) -> tfgnn.GraphTensor:
    """GraphTensor of `num_components` equal-sized components from flat tensors.

    Reverse indices of -1 stay -1 (no offset is added to them by the callers).

    Args:
      node_features: name -> [num_components * nodes_per_component, ...].
      senders, receivers, reverse: int32 [num_components * edges_per_component], global indices.
      num_components, nodes_per_component, edges_per_component: int scalars (Python or tensors).
    """
    node_sizes = tf.fill([num_components], tf.cast(nodes_per_component, tf.int32))
    edge_sizes = tf.fill([num_components], tf.cast(edges_per_component, tf.int32))
    return tfgnn.GraphTensor.from_pieces(
        node_sets={AGENTS: tfgnn.NodeSet.from_fields(sizes=node_sizes, features=node_features)},
        edge_sets={NEIGHBOURS: tfgnn.EdgeSet.from_fields(
            sizes=edge_sizes,
            adjacency=tfgnn.Adjacency.from_indices(source=(AGENTS, senders), target=(AGENTS, receivers)),
            features={REVERSE: reverse})})


def _flatten_features(features: dict, batch_dims: int) -> dict:
    """[B, N, ...] (or [N, ...]) tensors -> [B * N, ...]."""
    flat = {}
    for name, value in features.items():
        value = tf.convert_to_tensor(value)
        if batch_dims == 2:
            value = tf.reshape(value, tf.concat([[-1], tf.shape(value)[2:]], axis=0))
        flat[name] = value
    return flat


def graph_tensor(observations, graph: Graph, **extra_node_features) -> tfgnn.GraphTensor:
    """One joint state as a single-component GraphTensor.

    Args:
      observations: float [N, d] per-agent observations (node feature "hidden_state").
      graph: the agents' `Graph`, with N == graph.num_nodes.
      **extra_node_features: more [N, ...] node features (e.g. actions for a critic).

    Returns:
      A `tfgnn.GraphTensor` with one component of N agents and graph.num_edges edges.
    """
    observations = tf.convert_to_tensor(observations, tf.float32)
    if observations.shape.rank != 2:
        raise ValueError(f"observations must have shape [num_agents, obs_dim]. Received shape {observations.shape}.")
    if observations.shape[0] is not None and observations.shape[0] != graph.num_nodes:
        raise ValueError(f"observations has {observations.shape[0]} rows but the graph has "
                         f"{graph.num_nodes} agents.")
    features = {HIDDEN_STATE: observations, **{k: tf.convert_to_tensor(v) for k, v in extra_node_features.items()}}
    return assemble_graph_tensor(features, tf.constant(graph.senders), tf.constant(graph.receivers),
                         tf.constant(graph.reverse), 1, graph.num_nodes, graph.num_edges)


class GraphBatcher:
    """Builds B-component GraphTensors for one static graph, caching the index arrays.

    Example:
      >>> batcher = GraphBatcher(grid(2, 2))
      >>> g = batcher(tf.zeros([8, 4, 3]))   # 8 joint states of 4 agents, 3 features each
      >>> int(g.node_sets["agents"].total_size)
      32

    Call args:
      observations: float [B, N, d].
      **extra_node_features: more [B, N, ...] node features.
    Call returns:
      `tfgnn.GraphTensor` with B components (B * N agents, B * E edges).
    """

    def __init__(self, graph: Graph, group_ids=None):
        self.graph = graph
        self.group_ids = None if group_ids is None else np.asarray(group_ids, np.int32)  # [N] or None
        self._cache = {}

    def flat_indices(self, batch_size: int):
        """Offset (senders, receivers, reverse) int32 [batch_size * E] and the padded
        (in_neighbours, out_neighbours) int32 [batch_size * N, max degree], as numpy constants."""
        if batch_size not in self._cache:
            g = self.graph
            node_offsets = (np.arange(batch_size, dtype=np.int64) * g.num_nodes)[:, None]
            edge_offsets = (np.arange(batch_size, dtype=np.int64) * g.num_edges)[:, None]
            reverse = np.where(g.reverse[None, :] >= 0, g.reverse[None, :] + edge_offsets, -1)  # -1 stays -1
            edges = [(a + offsets).ravel() for a, offsets in
                     ((g.senders[None, :], node_offsets), (g.receivers[None, :], node_offsets), (reverse, 0))]
            lists = [np.where(rows[None] >= 0, rows[None] + node_offsets[:, :, None], -1)
                     .reshape(batch_size * g.num_nodes, rows.shape[1])  # explicit: max degree may be 0
                     for rows in padded_neighbour_lists(g.senders, g.receivers, g.num_nodes)]  # -1 stays -1
            indices = tuple(np.ascontiguousarray(a.astype(np.int32)) for a in edges + lists)
            for array in indices:
                array.setflags(write=False)
            self._cache[batch_size] = indices
        return self._cache[batch_size]

    def __call__(self, observations, **extra_node_features) -> tfgnn.GraphTensor:
        observations = tf.convert_to_tensor(observations, tf.float32)
        batch_size = observations.shape[0]
        if batch_size is None:
            raise ValueError("GraphBatcher needs a static batch size; use batch_graph_tensor for symbolic shapes.")
        if observations.shape[1] is not None and observations.shape[1] != self.graph.num_nodes:
            raise ValueError(f"observations has {observations.shape[1]} agents but the graph has "
                             f"{self.graph.num_nodes}.")
        senders, receivers, reverse, in_lists, out_lists = (tf.constant(a) for a in self.flat_indices(batch_size))
        if self.group_ids is not None:
            extra_node_features = dict(extra_node_features, **{GROUP: np.tile(self.group_ids, (batch_size, 1))})
        features = _flatten_features({HIDDEN_STATE: observations, **extra_node_features}, batch_dims=2)
        features.update({IN_NEIGHBOURS: in_lists, OUT_NEIGHBOURS: out_lists})
        return assemble_graph_tensor(features, senders, receivers, reverse, batch_size, self.graph.num_nodes,
                             self.graph.num_edges)


def replay_graph_tensor(batcher, observations, senders=None, receivers=None, group_ids=None) -> tfgnn.GraphTensor:
    """A replayed batch of joint states as a GraphTensor: on the static graph of `batcher`, or,
    when the batch carries them, on each row's own edges (what every learner's update reads).

    Args:
      batcher: the `GraphBatcher` of the static graph, or None when batches carry graphs.
      observations: float [B, N, d].
      senders: int32 [B, E] per-row edges, or None for the static graph.
      receivers: int32 [B, E], with senders.
      group_ids: int [N] agent groups for per-row edges, or None.
    """
    if senders is None:
        if batcher is None:
            raise ValueError("This learner has no static graph; batches must carry senders and receivers.")
        return batcher(observations)
    return batch_graph_tensor(observations, senders, receivers, group_ids=group_ids)


def batch_graph_tensor(observations, senders, receivers, group_ids=None, **extra_node_features) -> tfgnn.GraphTensor:
    """B joint states, each with its own graph, as one GraphTensor (TF ops only).

    Args:
      observations: float [B, N, d].
      senders: int32 [B, E], a symmetric graph per row with indices local to the row
        (e.g. replayed k-NN graphs). The reverse-edge index is computed here.
      receivers: int32 [B, E], the matching receivers.
      group_ids: optional int [N], each agent's group (added as node feature "group").
      **extra_node_features: more [B, N, ...] node features.

    Returns:
      `tfgnn.GraphTensor` with B components.
    """
    observations = tf.convert_to_tensor(observations, tf.float32)
    shape = tf.shape(observations)
    if group_ids is not None:
        groups = tf.tile(tf.constant(np.asarray(group_ids, np.int32))[None], [shape[0], 1])  # [B, N]
        extra_node_features = dict(extra_node_features, **{GROUP: groups})
    batch_size, num_nodes = shape[0], shape[1]
    senders, receivers = (tf.cast(tf.convert_to_tensor(a), tf.int32) for a in (senders, receivers))
    for name, edges in (("senders", senders), ("receivers", receivers)):
        if edges.shape.rank != 2:
            raise ValueError(f"{name} must have shape [batch, num_edges]. Received shape {edges.shape}.")
        if edges.shape[0] is not None and observations.shape[0] is not None and edges.shape[0] != observations.shape[0]:
            raise ValueError(f"{name} has {edges.shape[0]} rows but observations has {observations.shape[0]}; "
                             "each joint state needs its own edge list.")
    if senders.shape[1] is not None and receivers.shape[1] is not None and senders.shape[1] != receivers.shape[1]:
        raise ValueError(f"senders and receivers must have the same number of edges. Received {senders.shape[1]} "
                         f"and {receivers.shape[1]}.")
    num_edges = tf.shape(senders)[1]
    node_offsets = tf.range(batch_size)[:, None] * num_nodes  # [B, 1]
    flat_senders = tf.reshape(senders + node_offsets, [-1])  # [B * E]
    flat_receivers = tf.reshape(receivers + node_offsets, [-1])
    reverse = reverse_edge_index_tf(flat_senders, flat_receivers, batch_size * num_nodes)
    features = _flatten_features({HIDDEN_STATE: observations, **extra_node_features}, batch_dims=2)
    return assemble_graph_tensor(features, flat_senders, flat_receivers, reverse, batch_size, num_nodes, num_edges)


def reverse_edge_index_tf(senders, receivers, num_nodes):
    """TF version of `topology.reverse_edge_index` for graphs that arrive as tensors.

    Args:
      senders: int32 [E] (no duplicate edges).
      receivers: int32 [E].
      num_nodes: int32 scalar N.

    Returns:
      int32 [E]: the index of each edge's reverse edge, or -1 where there is none. Total
      (no assertion), so it behaves the same with and without XLA.
    """
    senders64, receivers64 = tf.cast(senders, tf.int64), tf.cast(receivers, tf.int64)
    n = tf.cast(num_nodes, tf.int64)
    keys = senders64 * n + receivers64
    reverse_keys = receivers64 * n + senders64
    order = tf.argsort(keys, stable=True)
    sorted_keys = tf.gather(keys, order)
    position = tf.minimum(tf.searchsorted(sorted_keys, reverse_keys), tf.maximum(tf.size(keys) - 1, 0))
    found = tf.gather(sorted_keys, position) == reverse_keys
    return tf.where(found, tf.cast(tf.gather(order, position), tf.int32), -1)
