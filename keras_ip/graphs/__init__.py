"""Agent graphs (`grid`, `knn`, `full`, `random`, `empty`, `from_edges`) and their GraphTensors."""

from keras_ip.graphs.tensor import (AGENTS, GROUP, HIDDEN_STATE, NEIGHBOURS, REVERSE, GraphBatcher, batch_graph_tensor,
                                    graph_tensor, reverse_edge_index_tf)
from keras_ip.graphs.dynamic import KNN
from keras_ip.graphs.topology import Graph, empty, from_edges, full, grid, knn, random, reverse_edge_index

__all__ = ["AGENTS", "GROUP", "HIDDEN_STATE", "NEIGHBOURS", "REVERSE", "Graph", "GraphBatcher", "KNN",
           "batch_graph_tensor", "empty", "from_edges", "full", "graph_tensor", "grid", "knn", "random", "reverse_edge_index",
           "reverse_edge_index_tf"]
