"""run_experiment: per-run logs (CSV, JSON lines, TensorBoard), checkpoints, summary and curves."""

import csv
import json
import pathlib

import numpy as np
import pytest
import tensorflow as tf

from keras_ip.experiments import run_experiment
from keras_ip.experiments.records import read_rows

RUNS, SEEDS = ("ip", "independent"), (0, 1)
PROGRESS_STEPS, EVAL_STEPS = [50, 100, 150, 200], [0, 100, 200]
LOSSES = ("train/critic_loss", "train/value_loss", "train/policy_loss", "train/entropy")


def seed_dirs(spec):
    return [pathlib.Path(spec.out) / run / f"seed_{seed}" for run in RUNS for seed in SEEDS]


def test_progress_rows_hold_steps_episodes_returns_losses_and_speed(coordination_experiment):
    spec, _ = coordination_experiment
    for directory in seed_dirs(spec):
        rows = read_rows(directory)
        progress = [row for row in rows if row["kind"] == "train"]
        assert [row["time/total_timesteps"] for row in progress] == PROGRESS_STEPS
        # One-step episodes: as many episodes as steps, each one step long.
        assert [row["time/episodes"] for row in progress] == PROGRESS_STEPS
        assert all(row["rollout/ep_len_mean"] == 1.0 and -4 <= row["rollout/ep_team_return_mean"] <= 0
                   for row in progress)
        # Updates start at step 104: losses from the row at step 150 on.
        assert [all(key in row for key in LOSSES) for row in progress] == [False, False, True, True]
        assert all(row["time/fps"] > 0 for row in progress)
        wall = [row["time/wall_time_s"] for row in rows]
        assert wall == sorted(wall) and wall[0] >= 0


def test_evaluation_rows_hold_the_team_return_and_the_environment_metrics(coordination_experiment):
    spec, _ = coordination_experiment
    for directory in seed_dirs(spec):
        evaluations = [row for row in read_rows(directory) if row["kind"] == "eval"]
        assert [row["time/total_timesteps"] for row in evaluations] == EVAL_STEPS
        for row in evaluations:
            # The coordination game reports the team reward in its infos; one-step episodes repeat it.
            assert row["eval/team_reward"] == row["eval/team_return"] and -4 <= row["eval/team_return"] <= 0


def test_csv_holds_the_same_rows_as_the_json_lines(coordination_experiment):
    spec, _ = coordination_experiment
    for directory in seed_dirs(spec):
        with open(directory / "progress.csv", newline="") as file:
            reader = csv.DictReader(file)
            assert reader.fieldnames[:5] == ["kind", "time/total_timesteps", "time/episodes", "time/wall_time_s",
                                             "time/fps"]
            table = list(reader)
        rows = read_rows(directory)
        assert len(table) == len(rows) == len(PROGRESS_STEPS) + len(EVAL_STEPS)
        for line, row in zip(table, rows):
            assert {key for key, value in line.items() if value != ""} == set(row)
            assert all(line[key] == row[key] if key == "kind" else float(line[key]) == pytest.approx(row[key])
                       for key in row)


def test_tensorboard_events_hold_every_logged_scalar(coordination_experiment):
    spec, _ = coordination_experiment
    directory = seed_dirs(spec)[0]
    scalars = {}
    for path in (directory / "tensorboard").glob("events.out.tfevents.*"):
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            for value in event.summary.value:
                assert value.metadata.plugin_data.plugin_name == "scalars"
                scalars.setdefault(value.tag, {})[event.step] = float(tf.make_ndarray(value.tensor))
    rows = read_rows(directory)
    for key in ("eval/team_return", "rollout/ep_team_return_mean", "train/critic_loss", "time/fps"):
        expected = {row["time/total_timesteps"]: row[key] for row in rows if key in row}
        assert scalars[key] == pytest.approx(expected)


def test_runs_finish_with_a_checkpoint_of_the_full_step_count(coordination_experiment):
    spec, _ = coordination_experiment
    for directory in seed_dirs(spec):
        status = json.loads((directory / "status.json").read_text())
        assert status == {"num_timesteps": 200, "finished": True, "resumed_from": []}
        assert json.loads((directory / "checkpoint" / "config.json").read_text())["num_timesteps"] == 200
        config = json.loads((directory / "config.json").read_text())
        assert config["algorithm"] in RUNS and config["hyperparameters"]["units"] == 16 and config["steps"] == 200


def test_summary_is_the_mean_and_std_of_the_final_evaluations(coordination_experiment):
    spec, rows = coordination_experiment
    out = pathlib.Path(spec.out)
    assert json.loads((out / "summary.json").read_text()) == rows
    assert [row["run"] for row in rows] == sorted(RUNS)  # runs are listed by directory name
    for row in rows:
        finals = [read_rows(out / row["run"] / f"seed_{s}")[-1]["eval/team_return"] for s in SEEDS]
        assert (row["algorithm"], row["seeds"], row["steps"]) == (row["run"], 2, 200)
        assert row["team_return_mean"] == pytest.approx(np.mean(finals))
        assert row["team_return_std"] == pytest.approx(np.std(finals))
    with open(out / "summary.csv", newline="") as file:
        table = list(csv.DictReader(file))
    assert [float(line["team_return_mean"]) for line in table] == pytest.approx([r["team_return_mean"] for r in rows])


def test_learning_curves_are_png_files(coordination_experiment):
    spec, _ = coordination_experiment
    for name in ("curve_eval_team_return.png", "curve_rollout_ep_team_return_mean.png", "curve_eval_team_reward.png"):
        data = (pathlib.Path(spec.out) / name).read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 1000
        height, width = tf.io.decode_png(data).shape[:2]
        assert (width, height) == (600, 400)


def test_a_finished_experiment_is_skipped_when_run_again(coordination_experiment, capsys):
    spec, rows = coordination_experiment
    before = {d: (d / "progress.jsonl").read_text() for d in seed_dirs(spec)}
    assert run_experiment(spec, verbose=True) == rows
    out = capsys.readouterr().out
    assert out.count("finished at step 200, skipped") == 4
    assert {d: (d / "progress.jsonl").read_text() for d in seed_dirs(spec)} == before


def test_a_run_directory_holding_other_settings_is_refused(coordination_experiment, spec_factory):
    spec, _ = coordination_experiment
    other = spec_factory(spec.out, hyperparameters={"units": 8})
    with pytest.raises(ValueError, match="holds a different run"):
        run_experiment(other, verbose=False)
