"""Callbacks: early stopping from on_step, hook order, ProgressBar, StopOnTeamReturn, Checkpoint + resume."""

import io

import numpy as np
import pytest

from keras_ip import IPAgent
from keras_ip.callbacks import Callback, Checkpoint, ProgressBar, StopOnTeamReturn
from keras_ip.logger import Logger

RANDOM_ONLY = {"learning_starts": 1000}  # every step acts uniformly at random, nothing is compiled
TEAM_RETURN = "rollout/ep_team_return_mean"


class Recorder(Callback):
    """Records the hooks called and the mean team return after each step; stops at step `stop_at`."""

    def __init__(self, stop_at=None):
        self.stop_at = stop_at
        self.calls = []
        self.team_returns = []

    def on_training_start(self, total_steps):
        self.calls.append(("start", total_steps))

    def on_step(self):
        self.calls.append("step")
        self.team_returns.append(self.agent.logger.latest().get(TEAM_RETURN))
        return self.stop_at is None or self.agent.num_timesteps < self.stop_at

    def on_training_end(self):
        self.calls.append("end")


class Crash(Callback):
    """Raises RuntimeError at step `at`, to simulate a run killed there."""

    def __init__(self, at):
        self.at = at

    def on_step(self):
        if self.agent.num_timesteps == self.at:
            raise RuntimeError(f"crash at step {self.at}")
        return True


@pytest.mark.parametrize("stop_at, steps_run", [(None, 20), (7, 7)])
def test_hooks_and_early_stop(make_agent, stop_at, steps_run):
    agent = make_agent(**RANDOM_ONLY)
    recorder = Recorder(stop_at)
    assert agent.fit(20, callbacks=recorder, progress_bar=False) is agent
    assert agent.num_timesteps == steps_run
    assert recorder.calls == [("start", 20)] + ["step"] * steps_run + ["end"]


def test_every_callback_sees_the_stopping_step(make_agent):
    agent = make_agent(**RANDOM_ONLY)
    stopper, watcher = Recorder(stop_at=3), Recorder()
    agent.fit(10, callbacks=[stopper, watcher], progress_bar=False)
    assert agent.num_timesteps == 3
    assert watcher.calls == [("start", 10)] + ["step"] * 3 + ["end"]


def test_progress_bar_reports_team_return_once_episodes_finish(make_agent):
    agent = make_agent(env_kwargs={"max_cycles": 3}, **RANDOM_ONLY)
    stream = io.StringIO()
    agent.fit(6, callbacks=ProgressBar(lines=6, stream=stream), progress_bar=False)
    lines = stream.getvalue().splitlines()
    assert [line.split(" | ")[0] for line in lines] == [f"step {i}/6" for i in range(1, 7)]
    assert ["team return" in line for line in lines] == [False, False, True, True, True, True]


def test_progress_bar_is_on_by_default(make_agent, capsys):
    make_agent(**RANDOM_ONLY).fit(4)
    assert "step 4/4" in capsys.readouterr().out


def test_stop_on_team_return(make_agent):
    # Two agents, one link: each random episode pays 0 (agree) or -1 (disagree), so the running
    # mean starts at 0 or -1 and hovers around -0.5. With seed 5 the first three episodes
    # disagree and the mean first reaches -0.5 (exactly) a few steps later.
    agent = make_agent(env_kwargs={"rows": 1, "cols": 2}, seed=5, **RANDOM_ONLY)
    recorder = Recorder()
    agent.fit(100, callbacks=[recorder, StopOnTeamReturn(-0.5)], progress_bar=False)
    assert agent.num_timesteps == len(recorder.team_returns) < 100
    assert recorder.team_returns[-1] >= -0.5
    assert all(value < -0.5 for value in recorder.team_returns[:-1])


def test_stop_on_unreachable_team_return_runs_every_step(make_agent):
    agent = make_agent(env_kwargs={"rows": 1, "cols": 2}, **RANDOM_ONLY)
    agent.fit(30, callbacks=StopOnTeamReturn(0.5), progress_bar=False)  # team returns are <= 0
    assert agent.num_timesteps == 30


def test_checkpoint_saves_every_k_steps(make_agent, tmp_path):
    agent = make_agent(**RANDOM_ONLY)
    agent.fit(10, callbacks=Checkpoint(tmp_path / "checkpoint", every=4), progress_bar=False)
    loaded = IPAgent.load(tmp_path / "checkpoint")
    assert loaded.num_timesteps == 8
    assert len(loaded.replay) == 8  # one transition per one-step episode, replay included by default


def test_checkpoint_rejects_bad_every(tmp_path):
    with pytest.raises(ValueError, match="every=0"):
        Checkpoint(tmp_path, every=0)


def test_interrupted_run_resumes_from_checkpoint(make_agent, weights_of, tmp_path):
    agent = make_agent(learning_starts=2, train_freq=2, batch_size=4)
    with pytest.raises(RuntimeError, match="crash at step 6"):
        agent.fit(20, callbacks=[Checkpoint(tmp_path / "checkpoint", every=3), Crash(at=6)], progress_bar=False)
    resumed = IPAgent.load(tmp_path / "checkpoint")
    assert (resumed.num_timesteps, resumed.num_updates) == (6, agent.num_updates) == (6, 3)
    assert len(resumed.replay) == 6
    resumed.fit(4, progress_bar=False)
    agent.fit(4, progress_bar=False)
    assert (resumed.num_timesteps, resumed.num_updates) == (10, 5)
    for resumed_weight, weight in zip(weights_of(resumed), weights_of(agent)):
        np.testing.assert_array_equal(resumed_weight, weight)  # the resumed run continues exactly


def test_progress_bar_prints_a_last_line_when_training_stops_between_lines(make_agent):
    import io

    from keras_ip.callbacks import Callback, ProgressBar

    class StopAtSeven(Callback):
        def on_step(self):
            return self.agent.num_timesteps < 7

    stream = io.StringIO()
    make_agent().fit(40, callbacks=[ProgressBar(lines=4, stream=stream), StopAtSeven()], progress_bar=False)
    lines = stream.getvalue().splitlines()
    assert lines[-1].startswith("step 7/40") and lines[-1].endswith("(stopped early)")


def test_progress_bar_shows_the_q_learning_baselines_loss():
    """DGN and MFQ log train/q_loss instead of SAC's losses; the progress line shows it."""
    bar = ProgressBar(stream=io.StringIO())

    class Agent:
        logger = Logger()

    Agent.logger.record_train({"q_loss": 0.25})
    bar.init_callback(Agent())
    bar._total, bar._start_time = 10, 0.0
    assert "q loss 0.250" in bar.describe(5)
