"""Every registered environment passes PettingZoo's own API and seed tests, through make_env."""

import functools

import pytest
from pettingzoo.test import parallel_api_test, parallel_seed_test

from keras_ip import make_env
from keras_ip.envs import registered_names

SMALL = {  # each built-in at a size the suite can afford
    "coordination": {"rows": 2, "cols": 3, "max_cycles": 4},
    "cooperative_navigation": {"n": 5, "max_cycles": 10},
    "heterogeneous_navigation": {"n": 4, "max_cycles": 10},
    "cooperative_push": {"n": 4, "max_cycles": 10},
    "prey_predator": {"n": 4, "max_cycles": 10},
    "majority_vote": {"rows": 2, "cols": 3, "max_cycles": 4},
    "jungle": {"map_size": 10, "n_agents": 4, "n_foods": 2, "max_cycles": 10},
    # traci: the seed test runs two simulations side by side, and libsumo holds one per process
    "traffic": {"grid": 2, "max_cycles": 5, "backend": "traci"},
}
DISCRETE_ONLY = {"jungle": "discrete actions only (move / attack)", "majority_vote": "the action is a bit",
                 "traffic": "the action is a green phase"}


def test_every_registered_environment_has_a_small_configuration_here():
    assert sorted(SMALL) == registered_names()


@pytest.mark.parametrize("name", sorted(SMALL))
@pytest.mark.parametrize("continuous", [False, True], ids=["discrete", "continuous"])
def test_parallel_api_and_seed(name, continuous):
    if continuous and name in DISCRETE_ONLY:
        pytest.skip(f"{name}: {DISCRETE_ONLY[name]}")
    kwargs = dict(SMALL[name], **({"continuous": True} if continuous else {}))
    parallel_api_test(make_env(name, **kwargs), num_cycles=kwargs["max_cycles"])
    parallel_seed_test(functools.partial(make_env, name, **kwargs), num_cycles=kwargs["max_cycles"])
