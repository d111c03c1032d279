"""Keras layers over agent GraphTensors: intention propagation, policy heads, critics."""

from keras_ip.layers.base import PropagationBase
from keras_ip.layers.critics import NeighbourhoodCritic
from keras_ip.layers.graph_ops import GraphOps
from keras_ip.layers.heads import CategoricalHead, TanhGaussianHead
from keras_ip.layers.independent import IndependentPropagation
from keras_ip.layers.loopy_bp import LoopyBPPropagation
from keras_ip.layers.mean_field import MeanFieldPropagation, NeighbourAttention
from keras_ip.layers.state_only import StateOnlyPropagation

PROPAGATION_LAYERS = {"mean_field": MeanFieldPropagation, "loopy_bp": LoopyBPPropagation,
                      "state_only": StateOnlyPropagation, "none": IndependentPropagation}

__all__ = ["CategoricalHead", "GraphOps", "IndependentPropagation", "LoopyBPPropagation", "MeanFieldPropagation",
           "NeighbourAttention", "NeighbourhoodCritic", "PROPAGATION_LAYERS", "PropagationBase", "StateOnlyPropagation",
           "TanhGaussianHead"]
