"""Agent graphs (`grid`, `knn`, `full`, `random`, `empty`, `from_edges`) and their GraphTensors.

The topologies are plain numpy, so environments can build their `default_graph()` without
TensorFlow (an environment copy in a Ray actor or a worker process then starts in well under a
second instead of importing TensorFlow). The GraphTensor names (`graph_tensor`, `GraphBatcher`, ...)
import `keras_ip.graphs.tensor`, and with it TensorFlow, on first access (PEP 562 `__getattr__`).
"""

import importlib
import typing

from keras_ip.graphs.dynamic import KNN
from keras_ip.graphs.topology import Graph, empty, from_edges, full, grid, knn, random, reverse_edge_index

if typing.TYPE_CHECKING:  # what type checkers and the API reference see; at run time, __getattr__ imports them
    from keras_ip.graphs.tensor import (AGENTS, GROUP, HIDDEN_STATE, NEIGHBOURS, REVERSE, GraphBatcher, batch_graph_tensor,
                                        graph_tensor, reverse_edge_index_tf)

_TENSOR_NAMES = ("AGENTS", "GROUP", "HIDDEN_STATE", "NEIGHBOURS", "REVERSE", "GraphBatcher", "batch_graph_tensor",
                 "graph_tensor", "reverse_edge_index_tf")

__all__ = ["AGENTS", "GROUP", "HIDDEN_STATE", "NEIGHBOURS", "REVERSE", "Graph", "GraphBatcher", "KNN",
           "batch_graph_tensor", "empty", "from_edges", "full", "graph_tensor", "grid", "knn", "random", "reverse_edge_index",
           "reverse_edge_index_tf"]


def __getattr__(name: str):
    """Imports the GraphTensor names of `keras_ip.graphs.tensor` (and TensorFlow) on first access."""
    if name in _TENSOR_NAMES:
        value = getattr(importlib.import_module("keras_ip.graphs.tensor"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
