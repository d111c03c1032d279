"""Tiny traffic environments: a generated 2 x 2 grid, a few decisions per episode."""

import pytest

from keras_ip.envs.traffic import TrafficSignalEnv

TINY = {"grid": 2, "max_cycles": 8}


@pytest.fixture
def tiny_env():
    """A fresh 2 x 2 grid environment (libsumo), closed after the test."""
    env = TrafficSignalEnv(**TINY)
    yield env
    env.close()


@pytest.fixture
def tiny_kwargs():
    """The keyword arguments of the tiny environment."""
    return dict(TINY)
