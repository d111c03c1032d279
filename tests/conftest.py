"""Shared fixtures: tiny IPAgents on the 2x2 coordination game, and helpers to compare them."""

import inspect

import numpy as np
import pytest

from keras_ip import IPAgent

TINY_ENV_KWARGS = {"rows": 2, "cols": 2}
TINY_SETTINGS = dict(units=16, batch_size=32, learning_starts=16, train_freq=4, gradient_steps=1, buffer_size=500,
                     seed=0, jit_compile=False)


def _make_agent(env="coordination", env_kwargs=None, **overrides) -> IPAgent:
    """A tiny agent; `env_kwargs` are merged into the 2x2 grid's when `env` is a name."""
    if isinstance(env, str):
        overrides["env_kwargs"] = dict(TINY_ENV_KWARGS, **(env_kwargs or {}))
    return IPAgent(env, **dict(TINY_SETTINGS, **overrides))


@pytest.fixture
def make_agent():
    """Factory of fresh tiny agents: make_agent(env="coordination", env_kwargs=None, **IPConfig overrides)."""
    return _make_agent


@pytest.fixture(scope="session")
def fitted():
    """Factory of tiny agents trained for `fitted.steps` = 64 steps (13 updates), cached per arguments.

    The agents are shared by the whole session: tests may predict, evaluate, save and export
    them, never fit them or set their params.
    """
    cache = {}

    def fitted_agent(**kwargs) -> IPAgent:
        key = repr(sorted(kwargs.items()))
        if key not in cache:
            cache[key] = _make_agent(**kwargs).fit(fitted_agent.steps, progress_bar=False)
        return cache[key]

    fitted_agent.steps = 64
    return fitted_agent


@pytest.fixture
def weights_of():
    """weights_of(agent) -> numpy copies of the weights of every network, in a fixed order."""

    def weights(agent):
        return [variable.numpy() for network in agent.learner.networks for variable in network.variables]

    return weights


@pytest.fixture
def signature_matches_config():
    """signature_matches_config(cls, extra=()) -> True when cls.__init__'s hyperparameters equal
    cls.config_class's fields and defaults; `extra` names its other init arguments besides self,
    env, env_kwargs, train_groups and fixed_policies (e.g. "strategy")."""

    def matches(cls, extra=()) -> bool:
        parameters = inspect.signature(cls.__init__).parameters
        names = list(cls.config_class().to_dict())
        defaults = cls.config_class()
        return (all(name in parameters and parameters[name].default == getattr(defaults, name) for name in names)
                and set(parameters) - set(names) == {"self", "env", "env_kwargs", "train_groups", "fixed_policies",
                                                     *extra})

    return matches


@pytest.fixture
def random_observations():
    """random_observations(agent, batch, seed=0) -> float32 [batch, N, obs_dim], normal with std 3."""

    def observations(agent, batch, seed=0):
        shape = (batch, agent.adapter.num_agents, agent.adapter.obs_dim)
        return (3.0 * np.random.default_rng(seed).standard_normal(shape)).astype(np.float32)

    return observations


@pytest.fixture(scope="session")
def local_ray():
    """One small local Ray instance for every Ray test of this test process (actors and vectors connect to
    it); Ray itself is an extra, so the tests using it skip without it."""
    import logging  # pylint: disable=import-outside-toplevel

    ray = pytest.importorskip("ray", reason='Ray is an extra: pip install "keras-ip[distributed]"')
    ray.init(num_cpus=2, object_store_memory=100 * 2**20, include_dashboard=False, log_to_driver=False,
             logging_level=logging.ERROR)
    yield ray
    ray.shutdown()
