"""Behaviour kept through refactors: fixed-seed fits give the replay contents and weights recorded
before them (tests/data/golden_fit.npz, written by this file's __main__ at 01f41d7, before issue 15's
collector, learner base and layer modules).

Re-record only for an intended change of behaviour: `python -m tests.test_golden_fit tests/data/golden_fit.npz`.
"""

import pathlib
import sys

import pytest

import keras_ip
from tests.golden import assert_equals_recorded, run_arrays, write_recorded

GOLDEN = pathlib.Path(__file__).with_name("data") / "golden_fit.npz"
TINY = dict(units=8, batch_size=16, learning_starts=16, train_freq=4, gradient_steps=1, buffer_size=300,
            jit_compile=False, seed=0)
RUNS = {  # name -> (agent factory, environment steps)
    "grid": (lambda: keras_ip.IPAgent("coordination", env_kwargs={"rows": 2, "cols": 2}, **TINY), 48),
    "knn": (lambda: keras_ip.IPAgent("cooperative_navigation", env_kwargs={"n": 4, "max_cycles": 6}, graph="knn",
                                     k=2, n_envs=2, **TINY), 40),
}


def record(name: str) -> dict:
    """The run's replay state (every stream), weights (every network, in order) and counters."""
    make, steps = RUNS[name]
    agent = make().fit(steps, progress_bar=False)
    variables = [v for network in agent.learner.networks for v in network.variables]
    arrays = run_arrays(name, agent, variables, [agent.num_timesteps, agent.num_updates])
    agent.close()
    return arrays


@pytest.mark.parametrize("name", sorted(RUNS))
def test_a_fixed_seed_fit_gives_the_recorded_transitions_and_weights(name):
    assert_equals_recorded(GOLDEN, name, record(name))


if __name__ == "__main__":
    write_recorded(sys.argv[1], record, RUNS)
