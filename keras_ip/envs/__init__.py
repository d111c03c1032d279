"""Multi-agent environments: the `make_env` registry, the PettingZoo adapter and built-in games."""

from keras_ip.envs.adapter import ParallelEnvAdapter, from_pettingzoo
from keras_ip.envs.coordination import CoordinationGame
from keras_ip.envs.jungle import Jungle
from keras_ip.envs.majority_vote import MajorityVote
from keras_ip.envs.registry import make_env, register, registered_names
from keras_ip.envs.traffic import TrafficSignalEnv

__all__ = ["CoordinationGame", "Jungle", "MajorityVote", "ParallelEnvAdapter", "TrafficSignalEnv", "from_pettingzoo", "make_env",
           "register", "registered_names"]
