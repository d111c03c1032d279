"""A small experiment, run once per session: 2 algorithms x 2 seeds x 200 steps of the 2 x 2 coordination game."""

import pytest

from keras_ip.experiments import ExperimentSpec, run_experiment

# One update every 8 steps from step 104 on (learning_starts=100): a few seconds of tracing per run.
FAST = dict(units=16, batch_size=32, buffer_size=500, learning_starts=100, train_freq=8, gradient_steps=1,
            jit_compile=False)


def small_spec(out, **fields) -> ExperimentSpec:
    """The session experiment's spec with `fields` replaced."""
    values = dict(env="coordination", env_kwargs={"rows": 2, "cols": 2}, algorithms=["ip", "independent"],
                  hyperparameters=FAST, seeds=[0, 1], steps=200, log_interval=50, eval_interval=100, eval_episodes=2,
                  checkpoint_interval=100, out=str(out))
    return ExperimentSpec(**dict(values, **fields))


@pytest.fixture(scope="session")
def coordination_experiment(tmp_path_factory):
    """(spec, summary rows) of the experiment, written under a session temporary directory.

    Tests read its files and may re-run the spec (finished runs are skipped), never change them.
    """
    spec = small_spec(tmp_path_factory.mktemp("experiment") / "coordination")
    return spec, run_experiment(spec, verbose=False)


@pytest.fixture
def spec_factory():
    return small_spec
