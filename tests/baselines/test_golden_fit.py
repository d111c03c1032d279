"""Behaviour kept through refactors: fixed-seed fits of the Q-learning baselines give the replay
contents, weights and counters recorded before them (tests/data/golden_baselines.npz, written by
this file's __main__ at 01f41d7, before issue 15's learner base).

Re-record only for an intended change of behaviour:
`python -m tests.baselines.test_golden_fit tests/data/golden_baselines.npz`.
"""

import pathlib
import sys

import pytest

from keras_ip.baselines import DGNAgent, MFQAgent
from tests.golden import assert_equals_recorded, run_arrays, write_recorded

GOLDEN = pathlib.Path(__file__).parents[1] / "data" / "golden_baselines.npz"
TINY = dict(units=8, batch_size=16, learning_starts=16, train_freq=4, gradient_steps=1, buffer_size=64,
            jit_compile=False, seed=0, env_kwargs={"rows": 2, "cols": 2})
RUNS = {"dgn": DGNAgent, "mfq": MFQAgent}  # each fitted for 48 steps on the 2x2 coordination game


def record(name: str) -> dict:
    """The run's replay state (every stream), the learner's networks and optimiser (every
    variable, in order) and the step counters."""
    agent = RUNS[name]("coordination", **TINY).fit(48, progress_bar=False)
    learner = agent.learner
    variables = [*learner.network.variables, *learner.target_network.variables, *learner.optimizer.variables()]
    return run_arrays(name, agent, variables, [agent.num_timesteps, agent.num_updates, learner.updates.numpy()])


@pytest.mark.parametrize("name", sorted(RUNS))
def test_a_fixed_seed_fit_gives_the_recorded_transitions_and_weights(name):
    assert_equals_recorded(GOLDEN, name, record(name))


if __name__ == "__main__":
    write_recorded(sys.argv[1], record, RUNS)
