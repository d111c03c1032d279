"""Simulator rules per run: a run's own env_kwargs over the experiment's, so each traffic controller
plays under the rules it was tuned for (delta_time, yellow_time, min_green) next to the learners."""

import json

import pytest

from keras_ip.envs.traffic import GreedyController
from keras_ip.experiments import ExperimentSpec, RunSpec, load_agent, run_experiment

TINY = {"grid": 2, "max_cycles": 8}  # a generated 2 x 2 grid, 8 decisions per episode (tests/envs/traffic)


def test_a_run_env_kwargs_override_the_experiment_ones():
    spec = ExperimentSpec(env="traffic", env_kwargs={"scenario": "grid4x4", "min_green": 5},
                          algorithms={"ip": {}, "max_pressure": {"env_kwargs": {"min_green": 0}}})
    ip, max_pressure = spec.runs()
    assert max_pressure == RunSpec("max_pressure", "max_pressure", {"controller": "max_pressure"}, {"min_green": 0})
    assert ip.env_kwargs == {}
    assert spec.run_env_kwargs(max_pressure) == {"scenario": "grid4x4", "min_green": 0}
    assert spec.run_env_kwargs(ip) == {"scenario": "grid4x4", "min_green": 5}


def test_every_point_of_a_sweep_keeps_its_run_env_kwargs():
    spec = ExperimentSpec(env="traffic", algorithms={"fixed_time": {"env_kwargs": {"delta_time": 10}}},
                          sweep={"fixed_time": {"green_time": [10, 20]}})
    assert [(run.name, run.hyperparameters["green_time"], run.env_kwargs) for run in spec.runs()] == [
        ("fixed_time_green_time10", 10, {"delta_time": 10}), ("fixed_time_green_time20", 20, {"delta_time": 10})]


def test_a_run_env_kwargs_must_be_a_dict():
    with pytest.raises(ValueError, match=r"Run 'max_pressure': env_kwargs must be a dict .*Received: env_kwargs=\[0\]"):
        ExperimentSpec(env="traffic", algorithms={"max_pressure": {"env_kwargs": [0]}})


def test_runs_play_under_their_own_rules(tmp_path):
    out = tmp_path / "rules"
    fields = dict(env="traffic", env_kwargs=dict(TINY, min_green=5), seeds=[0], steps=8, log_interval=8,
                  eval_interval=8, eval_episodes=1, checkpoint_interval=8, out=str(out))
    spec = ExperimentSpec(algorithms={"greedy": {"env_kwargs": {"min_green": 0}}, "max_pressure": {}}, **fields)
    rows = run_experiment(spec, verbose=False)
    assert sorted(row["run"] for row in rows) == ["greedy", "max_pressure"]
    for run, min_green in (("greedy", 0), ("max_pressure", 5)):
        config = json.loads((out / run / "seed_0" / "config.json").read_text())
        assert config["env_kwargs"] == dict(TINY, min_green=min_green)
        agent = load_agent(out / run / "seed_0")
        try:
            assert agent.env.min_green == min_green and agent.controller_name == run
        finally:
            agent.close()
    greedy = load_agent(out / "greedy" / "seed_0")
    greedy.close()
    assert isinstance(greedy.controller, GreedyController)
    changed = ExperimentSpec(algorithms={"greedy": {"env_kwargs": {"min_green": 2}}}, **fields)
    with pytest.raises(ValueError, match="holds a different run"):
        run_experiment(changed, verbose=False)
