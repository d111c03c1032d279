"""Baselines on the same environments, graphs and replay as `keras_ip.IPAgent` (docs/baselines.md).

`DGNAgent`: graph convolutional Q-learning with relation attention (Jiang et al. 2020).
`MFQAgent`: mean-field Q-learning (Yang et al. 2018).
`ISACAgent`: independent soft actor-critic, no neighbour information anywhere.
`IQLAgent`: independent deep Q-learning with a double-Q target.
`PICAgent`: MADDPG with a permutation-invariant critic (Liu et al. 2019).
`QMIXAgent`: monotonic value factorisation of the team reward (Rashid et al. 2018).
All but ISAC take discrete actions only; all share `IPAgent`'s estimator interface.
"""

from keras_ip.baselines.config import BaselineConfig, DGNConfig, IQLConfig, MFQConfig, QMIXConfig
from keras_ip.baselines.dgn import DGNAgent, DGNLearner
from keras_ip.baselines.iql import IQLAgent, IQLLearner
from keras_ip.baselines.isac import ISACAgent, ISACConfig
from keras_ip.baselines.mfq import MFQAgent, MFQLearner
from keras_ip.baselines.networks import DGNNetwork, MeanFieldQNetwork, RelationAttention
from keras_ip.baselines.pic import PICAgent, PICConfig, PICLearner
from keras_ip.baselines.qmix import QMIXAgent, QMIXLearner

__all__ = ["BaselineConfig", "DGNAgent", "DGNConfig", "DGNLearner", "DGNNetwork", "IQLAgent", "IQLConfig", "IQLLearner",
           "ISACAgent", "ISACConfig", "MFQAgent", "MFQConfig", "MFQLearner", "MeanFieldQNetwork", "PICAgent", "PICConfig",
           "PICLearner", "QMIXAgent", "QMIXConfig", "QMIXLearner", "RelationAttention"]
