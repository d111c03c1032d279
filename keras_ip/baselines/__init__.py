"""Baselines on the same environments, graphs and replay as `keras_ip.IPAgent` (docs/baselines.md).

`DGNAgent`: graph convolutional Q-learning with relation attention (Jiang et al. 2020).
`MFQAgent`: mean-field Q-learning (Yang et al. 2018).
`ISACAgent`: independent soft actor-critic, no neighbour information anywhere.
DGN and MF-Q take discrete actions only; all share `IPAgent`'s estimator interface.
"""

from keras_ip.baselines.config import BaselineConfig, DGNConfig, MFQConfig
from keras_ip.baselines.dgn import DGNAgent, DGNLearner
from keras_ip.baselines.isac import ISACAgent
from keras_ip.baselines.mfq import MFQAgent, MFQLearner
from keras_ip.baselines.networks import DGNNetwork, MeanFieldQNetwork, RelationAttention

__all__ = ["BaselineConfig", "DGNAgent", "DGNConfig", "DGNLearner", "DGNNetwork", "ISACAgent", "MFQAgent", "MFQConfig",
           "MFQLearner", "MeanFieldQNetwork", "RelationAttention"]
