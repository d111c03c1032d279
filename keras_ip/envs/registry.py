"""Environments by name: `make_env("coordination", rows=2, cols=2)`.

A factory is any callable returning a PettingZoo `ParallelEnv`; its keyword arguments
are the environment's options.
"""

from __future__ import annotations

from typing import Callable

from keras_ip.envs.coordination import CoordinationGame
from keras_ip.envs.jungle import Jungle
from keras_ip.envs.majority_vote import MajorityVote
from keras_ip.envs.particles import CooperativeNavigation, CooperativePush, HeterogeneousNavigation, PreyPredator
from keras_ip.envs.traffic import TrafficSignalEnv

_FACTORIES: dict[str, Callable] = {}


def register(name: str, factory: Callable) -> None:
    """Makes `make_env(name, **kwargs)` call `factory(**kwargs)`.

    Raises ValueError for an empty or already registered name, TypeError for a factory
    that is not callable.
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be a non-empty string. Received: name={name!r}")
    if name in _FACTORIES:
        raise ValueError(f"An environment named {name!r} is already registered.")
    if not callable(factory):
        raise TypeError(f"factory must be callable. Received: factory={factory!r}")
    _FACTORIES[name] = factory


def registered_names() -> list[str]:
    """The registered environment names, sorted."""
    return sorted(_FACTORIES)


def make_env(name: str, **kwargs):
    """A new environment from the factory registered as `name`, called with `kwargs`.

    Example:
      >>> make_env("coordination", rows=2, cols=2).possible_agents
      ['agent_0', 'agent_1', 'agent_2', 'agent_3']

    Raises ValueError for an unknown name (listing the known ones), and TypeError,
    naming the environment, when the factory rejects the keyword arguments.
    """
    if name not in _FACTORIES:
        raise ValueError(f"Unknown environment. Received: name={name!r}; known names: {registered_names()}")
    try:
        return _FACTORIES[name](**kwargs)
    except TypeError as error:
        raise TypeError(f"make_env({name!r}) could not build the environment: {error}") from error


register("coordination", CoordinationGame)
register("jungle", Jungle)
register("majority_vote", MajorityVote)
register("cooperative_navigation", CooperativeNavigation)
register("heterogeneous_navigation", HeterogeneousNavigation)
register("cooperative_push", CooperativePush)
register("prey_predator", PreyPredator)
register("traffic", TrafficSignalEnv)
