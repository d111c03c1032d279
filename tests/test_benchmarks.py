"""benchmarks/throughput.py: its JSON records carry the issue's keys and agree with themselves.

Each call runs the script in a subprocess, as users do; the settings are the smallest ones.
"""

import csv
import json
import pathlib
import shutil
import subprocess
import sys

import pytest

THROUGHPUT = pathlib.Path(__file__).resolve().parents[1] / "benchmarks" / "throughput.py"


def run_throughput(*args: str) -> list:
    """Runs benchmarks/throughput.py with `args`; returns the JSON objects it printed, one per line."""
    done = subprocess.run([sys.executable, str(THROUGHPUT), *args], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def test_update_record_has_the_required_keys_and_consistent_figures():
    (record,) = run_throughput("--one", "9", "256", "on", "--repeats", "1")
    for key in ("num_agents", "batch", "xla", "ms_per_update", "agent_samples_per_s", "gflops", "matmul_gflops",
                "matmul_fraction", "ms_per_act", "peak_rss_gb"):
        assert key in record, key
    assert (record["num_agents"], record["batch"], record["xla"]) == (9, 256, True)
    seconds = record["ms_per_update"] / 1000.0
    assert seconds > 0 and record["ms_per_act"] > 0 and record["matmul_gflops"] > 0
    assert record["agent_samples_per_s"] * seconds == pytest.approx(9 * 256, rel=1e-6)
    assert record["achieved_gflops_per_s"] * seconds == pytest.approx(record["gflops"], rel=1e-6)
    assert record["matmul_fraction"] == pytest.approx(record["achieved_gflops_per_s"] / record["matmul_gflops"])
    assert record["gflops"] == pytest.approx(record["mflop_per_agent_sample"] * 9 * 256 / 1000.0, rel=1e-6)
    by_part = record["kflop_per_agent_sample_by_part"]
    assert sum(by_part.values()) == pytest.approx(1000.0 * record["mflop_per_agent_sample"], rel=1e-3)
    assert 0 < record["peak_rss_gb"] < 24


def test_counted_flops_grow_linearly_with_agents_and_batch():
    """Every matmul runs on [nodes, units] rows, so FLOPs per agent-sample do not depend on N or the batch."""
    records = run_throughput("--flops", "--n", "9", "30", "--batch", "64", "256")
    assert [(r["num_agents"], r["batch"]) for r in records] == [(9, 64), (9, 256), (30, 64), (30, 256)]
    assert len({r["mflop_per_agent_sample"] for r in records}) == 1
    for r in records:
        assert r["gflops"] == pytest.approx(r["mflop_per_agent_sample"] * r["num_agents"] * r["batch"] / 1000.0,
                                            rel=1e-9)
    (lean,) = run_throughput("--flops", "--n", "9", "--batch", "64", "--critic-hops", "0")
    assert lean["mflop_per_agent_sample"] < records[0]["mflop_per_agent_sample"]


def test_collection_record_counts_environment_and_agent_steps():
    (record,) = run_throughput("--collect", "2", "--collection-n", "9")
    assert (record["kind"], record["n_envs"], record["num_agents"]) == ("collection", 2, 9)
    assert record["env_steps_per_s"] > 0
    assert record["agent_steps_per_s"] == pytest.approx(9 * record["env_steps_per_s"])


BENCHMARK = pathlib.Path(__file__).resolve().parents[1] / "benchmarks" / "benchmark.py"


def run_benchmark(*args: str) -> str:
    done = subprocess.run([sys.executable, str(BENCHMARK), *args], capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return done.stdout


def test_benchmark_suite_runs_resumes_and_reports(tmp_path):
    """benchmarks/benchmark.py as a user runs it, on one task, two algorithms and three seeds at a
    60-step budget: every cell trains once and is archived, a second `run` has nothing left to do,
    nor has one on a fresh clone (an empty output directory, the archive kept), and the report
    holds one row per (task, algorithm, seed), normalised by the random policy and the optimum."""
    cells = ("--tasks", "coordination", "--algorithms", "ip", "isac", "--seeds", "0", "1", "2")
    archive = tmp_path / "archive"
    budget = ("--out", str(tmp_path / "out"), "--archive", str(archive), "--steps", "60")
    records = [json.loads(line) for line in run_benchmark("run", *cells, *budget, "--jobs", "2").splitlines()
               if line.startswith("{")]
    assert records[0]["cells_to_train"] == 6
    assert sorted((r["run"], r["seed"], r["returncode"]) for r in records[1:]) == [
        (run, seed, 0) for run in ("ip", "isac") for seed in (0, 1, 2)]
    again = json.loads(run_benchmark("run", *cells, *budget).splitlines()[0])
    assert again["cells_to_train"] == 0
    archived = sorted(path.relative_to(archive).parts for path in archive.glob("*/*/seed_*/status.json"))
    assert archived == [("coordination", run, f"seed_{seed}", "status.json") for run in ("ip", "isac") for seed in (0, 1, 2)]
    assert not list(archive.glob("**/checkpoint"))
    shutil.rmtree(tmp_path / "out")  # a fresh clone: the runs are gone, the archive is committed
    fresh = json.loads(run_benchmark("run", *cells, *budget).splitlines()[0])
    assert fresh["cells_to_train"] == 0
    result = json.loads(run_benchmark("report", "--tasks", "coordination", *budget, "--reps", "200"))
    with open(tmp_path / "out" / "summary.csv") as file:
        rows = list(csv.DictReader(file))
    assert list(rows[0]) == ["task", "algorithm", "seed", "steps", "score", "normalised_score"]
    assert sorted((r["algorithm"], int(r["seed"]), int(r["steps"])) for r in rows) == [
        (run, seed, 60) for run in ("ip", "isac") for seed in (0, 1, 2)]
    (anchors,) = result["anchors"]
    assert anchors["reference"] == 0.0 and anchors["random"] < 0  # the coordination game's optimum; random play
    for row in rows:
        expected = (float(row["score"]) - anchors["random"]) / (0.0 - anchors["random"])
        assert float(row["normalised_score"]) == pytest.approx(expected)
    assert result["algorithms"] == ["ip", "isac"] and set(result["estimates"]) == {"ip", "isac"}
    assert set(result["probability_of_improvement"]) == {"ip > isac"}
    for name in ("aggregate.png", "profiles.png", "coordination/curve_eval_team_return.png"):
        assert (tmp_path / "out" / name).stat().st_size > 0
