"""make_env / register / registered_names."""

import pytest

from keras_ip.envs import CoordinationGame, make_env, register, registered_names
from keras_ip.envs import registry


@pytest.fixture
def scratch_registry(monkeypatch):
    """Lets a test register names without leaking them into other tests."""
    monkeypatch.setattr(registry, "_FACTORIES", dict(registry._FACTORIES))


def test_coordination_is_registered_and_takes_kwargs():
    assert "coordination" in registered_names()
    env = make_env("coordination", rows=2, cols=2, continuous=True)
    assert isinstance(env, CoordinationGame)
    assert env.grid_shape == (2, 2) and env.action_space("agent_3").shape == (1,)


def test_unknown_name_lists_known_names():
    with pytest.raises(ValueError, match="'nowhere'.*'coordination'"):
        make_env("nowhere")


def test_bad_kwarg_names_the_env():
    with pytest.raises(TypeError, match="make_env\\('coordination'\\).*bogus"):
        make_env("coordination", bogus=1)


def test_factory_value_errors_propagate_unchanged():
    with pytest.raises(ValueError, match="rows=0"):
        make_env("coordination", rows=0)


BUILT_IN = ["cooperative_navigation", "coordination", "jungle"]


def test_built_in_names_are_registered_sorted():
    names = registered_names()
    assert names == sorted(names) and set(BUILT_IN) <= set(names)


def test_register_new_factory(scratch_registry):
    before = registered_names()
    register("two_by_one", lambda **kwargs: CoordinationGame(rows=2, cols=1, **kwargs))
    assert registered_names() == sorted(before + ["two_by_one"])
    assert make_env("two_by_one", max_cycles=4).max_cycles == 4


@pytest.mark.parametrize("name, factory, error, message", [
    ("coordination", CoordinationGame, ValueError, "already registered"),
    ("", CoordinationGame, ValueError, "name=''"),
    (None, CoordinationGame, ValueError, "name=None"),
    ("new", "not a factory", TypeError, "factory='not a factory'"),
])
def test_register_rejects_bad_input(scratch_registry, name, factory, error, message):
    before = registered_names()
    with pytest.raises(error, match=message):
        register(name, factory)
    assert registered_names() == before
