"""benchmarks/throughput.py: its JSON records carry the issue's keys and agree with themselves.

Each call runs the script in a subprocess, as users do; the settings are the smallest ones.
"""

import json
import pathlib
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
