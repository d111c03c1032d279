"""ControllerAgent: the classical traffic controllers behind IPAgent's interface, in an experiment."""

import gc
import json
import pathlib

import pytest

from keras_ip.callbacks import Callback
from keras_ip.envs.traffic import FixedTimeController, TrafficSignalEnv, run_episode
from keras_ip.experiments import ExperimentSpec, load_agent, run_experiment
from keras_ip.experiments.controller_agent import ControllerAgent
from keras_ip.experiments.records import read_rows

TINY = {"grid": 2, "max_cycles": 8}  # a generated 2 x 2 grid, 8 decisions per episode (tests/envs/traffic)


class CountSteps(Callback):
    def __init__(self):
        self.steps = []

    def on_step(self):
        self.steps.append(self.agent.num_timesteps)
        return True


@pytest.fixture
def max_pressure():
    agent = ControllerAgent("traffic", controller="max_pressure", env_kwargs=TINY, seed=0)
    yield agent
    agent.close()


def test_fit_plays_whole_episodes_and_counts_steps(max_pressure):
    counter = CountSteps()
    assert max_pressure.fit(20, callbacks=counter, progress_bar=False) is max_pressure
    assert counter.steps == list(range(1, 21)) and max_pressure.num_timesteps == 20
    record = max_pressure.logger.latest()
    assert record["time/episodes"] == 2 and record["rollout/ep_len_mean"] == 8  # steps 1-8 and 9-16 ended episodes


def test_evaluate_matches_running_the_controller_by_hand(max_pressure):
    metrics = max_pressure.evaluate(episodes=2, seed=5, metrics=True)
    env = TrafficSignalEnv(**TINY)
    try:
        from keras_ip.envs.traffic import MaxPressureController
        by_hand = [run_episode(env, MaxPressureController(env), seed=s) for s in (5, 6)]
    finally:
        env.close()
    assert metrics == pytest.approx({key: (a + b) / 2 for (key, a), b in zip(by_hand[0].items(), by_hand[1].values())})
    assert max_pressure.evaluate(episodes=2, seed=5) == metrics["team_return"]


def test_save_load_keeps_the_step_count_and_settings(tmp_path):
    agent = ControllerAgent("traffic", controller="fixed_time", green_time=10, env_kwargs=TINY, seed=3)
    agent.fit(5, progress_bar=False)
    agent.save(tmp_path / "checkpoint", include_replay=True)
    agent.close()
    loaded = load_agent(tmp_path / "checkpoint")
    try:
        assert isinstance(loaded.controller, FixedTimeController) and loaded.controller.green_time == 10
        assert (loaded.num_timesteps, loaded.seed, loaded.env_kwargs) == (5, 3, TINY)
        with pytest.raises(ValueError, match="no policy network to export"):
            loaded.export(tmp_path / "serving")
    finally:
        loaded.close()


@pytest.mark.parametrize("kwargs, message", [
    (dict(env="coordination", controller="max_pressure"), "needs a TrafficSignalEnv"),
    (dict(env="traffic", controller="webster", env_kwargs=TINY), "controller must be one of"),
    (dict(env="traffic", controller="max_pressure", green_time=10, env_kwargs=TINY), "green_time only applies"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ControllerAgent(**kwargs)


def test_controllers_in_an_experiment_give_flat_evaluation_curves(tmp_path):
    spec = ExperimentSpec(env="traffic", env_kwargs=TINY, algorithms={"max_pressure": {}, "fixed_time": {"green_time": 10}},
                          seeds=[0], steps=24, log_interval=8, eval_interval=8, eval_episodes=1, checkpoint_interval=16,
                          out=str(tmp_path / "traffic"))
    rows = run_experiment(spec, verbose=False)
    assert [row["run"] for row in rows] == ["fixed_time", "max_pressure"]
    for name in ("max_pressure", "fixed_time"):
        run = tmp_path / "traffic" / name / "seed_0"
        evaluations = [row for row in read_rows(run) if row["kind"] == "eval"]
        assert [row["time/total_timesteps"] for row in evaluations] == [0, 8, 16, 24]
        assert len({row["eval/delay"] for row in evaluations}) == 1  # nothing is learned
        assert json.loads((run / "checkpoint" / "config.json").read_text())["num_timesteps"] == 24
        assert {"delay_mean", "trip_time_mean", "queue_length_mean"} <= set(rows[0])
    assert pathlib.Path(spec.out, "curve_eval_delay.png").stat().st_size > 1000


def test_learners_and_controllers_share_one_libsumo_process(tmp_path):
    """Each run closes its environment, so the next run can start libsumo's one simulation: 5 steps
    stop mid-episode (8 decisions), leaving the simulation running (the garbage collector is off so
    that nothing but the runner closes it)."""
    spec = ExperimentSpec(env="traffic", env_kwargs=TINY, algorithms={"independent": {"units": 8}, "max_pressure": {}},
                          hyperparameters={"learning_starts": 1000}, seeds=[0, 1], steps=5, log_interval=5,
                          eval_interval=5, eval_episodes=1, checkpoint_interval=5, out=str(tmp_path / "traffic"))
    gc.disable()
    try:
        rows = run_experiment(spec, verbose=False)
    finally:
        gc.enable()
    assert sorted((row["run"], row["seeds"]) for row in rows) == [("independent", 2), ("max_pressure", 2)]


def test_sampled_evaluation_reaches_the_agent():
    """eval_deterministic=False makes ProgressRecorder evaluate with sampled actions."""
    from keras_ip.experiments.records import ProgressRecorder

    class Agent:
        num_timesteps = 0

        def evaluate(self, episodes, deterministic, seed, metrics):
            self.call = (episodes, deterministic, seed, metrics)
            return {"team_return": -1.0}

    class Log:
        rows = []

        def write(self, row):
            self.rows.append(row)

    recorder = ProgressRecorder(Log(), total_steps=10, log_interval=5, eval_interval=5, eval_episodes=3, eval_seed=7,
                                eval_deterministic=False)
    recorder.init_callback(Agent())
    recorder._eval_seconds, recorder._wall_offset, recorder._start = 0.0, 0.0, 0.0
    recorder.evaluate()
    assert recorder.agent.call == (3, False, 7, True)
    assert recorder.log.rows[-1]["eval/team_return"] == -1.0
