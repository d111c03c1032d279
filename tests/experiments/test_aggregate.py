"""keras_ip.experiments.aggregate and random_policy: final scores read from run records,
normalisation, rliable's aggregates checked against numbers worked by hand."""

import json

import numpy as np
import pytest

from keras_ip.experiments import aggregate
from keras_ip.experiments.random_policy import evaluate_random_policy


def write_run(out, run, seed, algorithm, evaluations):
    """A run directory as the runner leaves it: config.json and progress.jsonl with eval rows."""
    directory = out / run / f"seed_{seed}"
    directory.mkdir(parents=True)
    (directory / "config.json").write_text(json.dumps({"algorithm": algorithm, "seed": seed}))
    rows = [{"kind": "train", "time/total_timesteps": 50, "rollout/ep_team_return_mean": -9.0}]
    rows += [{"kind": "eval", "time/total_timesteps": step, "eval/team_return": value, "eval/delay": -value}
             for step, value in evaluations]
    (directory / "progress.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))


def test_final_scores_take_the_last_evaluation_of_finished_runs(tmp_path):
    write_run(tmp_path, "ip", 0, "ip", [(0, -6.0), (100, -2.0), (200, -1.0)])
    write_run(tmp_path, "ip", 1, "ip", [(0, -5.0), (100, -3.0)])          # stopped at 100 of 200
    write_run(tmp_path, "isac", 0, "isac", [(0, -6.0), (200, -4.5)])
    finished, unfinished = aggregate.final_scores(tmp_path, "eval/team_return", steps=200)
    assert sorted(finished, key=lambda s: s.run) == [aggregate.FinalScore("ip", "ip", 0, 200, -1.0),
                                                     aggregate.FinalScore("isac", "isac", 0, 200, -4.5)]
    assert unfinished == [("ip", 1, 100)]
    delays, _ = aggregate.final_scores(tmp_path, "eval/delay", steps=200)
    assert {s.run: s.score for s in delays} == {"ip": 1.0, "isac": 4.5}


def test_normalise_by_hand_for_returns_and_for_costs():
    # return: random -6, optimum 0: -1.5 -> 4.5 / 6
    np.testing.assert_allclose(aggregate.normalise([-6.0, -1.5, 0.0], -6.0, 0.0), [0.0, 0.75, 1.0])
    # delay (lower is better): random 160 s, max-pressure 40 s: 30 s -> 130 / 120
    np.testing.assert_allclose(aggregate.normalise([160.0, 40.0, 30.0], 160.0, 40.0), [0.0, 1.0, 130 / 120])
    with pytest.raises(ValueError, match="must differ.*reference=3.0, random=3.0"):
        aggregate.normalise(1.0, 3.0, 3.0)


def rows_of(table):
    return [{"task": task, "algorithm": algorithm, "seed": seed, "normalised_score": value}
            for (task, algorithm, seed), value in table.items()]


def test_score_matrices_are_seeds_by_tasks_and_name_missing_cells():
    table = {("a", "ip", 0): 0.1, ("b", "ip", 0): 0.2, ("a", "ip", 1): 0.3, ("b", "ip", 1): 0.4, ("a", "isac", 0): 0.5}
    (matrix,) = aggregate.score_matrices(rows_of(table), ["ip"], ["a", "b"], [0, 1]).values()
    np.testing.assert_allclose(matrix, [[0.1, 0.2], [0.3, 0.4]])
    with pytest.raises(ValueError, match=r"3 \(task, algorithm, seed\) cells.*\('b', 'isac', 0\)"):
        aggregate.score_matrices(rows_of(table), ["isac"], ["a", "b"], [0, 1])


def test_aggregates_and_intervals_match_hand_computation():
    """8 scores 0..7 over 4 runs x 2 tasks: IQM = mean of the middle four (2, 3, 4, 5) = 3.5,
    mean 3.5, median 3.5; with every run of a task equal, no resample can change them."""
    matrix = np.arange(8, dtype=float).reshape(4, 2)
    np.testing.assert_allclose(aggregate.aggregate_metrics(matrix), [3.5, 3.5, 3.5])
    skewed = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 1.0], [1.0, 100.0]])  # IQM drops the 100 and one 0
    np.testing.assert_allclose(aggregate.aggregate_metrics(skewed)[:2], [0.75, 13.0])
    flat = np.tile([[0.2, 0.6]], (3, 1))
    estimates = aggregate.interval_estimates({"flat": flat, "spread": matrix}, reps=300)
    assert estimates["flat"]["IQM"] == pytest.approx((0.4, 0.4, 0.4))
    point, low, high = estimates["spread"]["IQM"]
    assert point == pytest.approx(3.5) and low <= point <= high and high - low > 0


def test_probability_of_improvement_of_a_dominating_algorithm():
    better, worse = np.ones((3, 2)), np.zeros((3, 2))
    assert aggregate.probability_of_improvement({"a": better, "b": worse}, "a", "b", reps=200) == (1.0, 1.0, 1.0)
    assert aggregate.probability_of_improvement({"a": better, "b": better}, "a", "b", reps=200) == (0.5, 0.5, 0.5)


def test_plots_are_written(tmp_path):
    matrices = {"ip": np.array([[0.9, 1.0], [0.8, 0.7]]), "isac": np.array([[0.1, 0.4], [0.3, 0.2]])}
    estimates = aggregate.interval_estimates(matrices, reps=200)
    for path in (aggregate.plot_intervals(estimates, tmp_path / "aggregate.png"),
                 aggregate.plot_profiles(matrices, tmp_path / "profiles.png", reps=200)):
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_random_policy_plays_the_evaluation_episodes():
    """majority_vote 2 x 2, one-shot: each agent's reward is 1 when its vote matches the majority
    of its radius ball, so a random team return lies in [0, 4]; the same seeds give the same score."""
    first = evaluate_random_policy("majority_vote", {"rows": 2, "cols": 2, "radius": 1}, episodes=20, seed=7)
    again = evaluate_random_policy("majority_vote", {"rows": 2, "cols": 2, "radius": 1}, episodes=20, seed=7)
    assert first == again and 0.0 <= first["team_return"] <= 4.0 and first["optimum"] == 4.0
    other = evaluate_random_policy("majority_vote", {"rows": 2, "cols": 2, "radius": 1}, episodes=20, seed=7,
                                   action_seed=1)
    assert other["team_return"] != first["team_return"]
