"""Kill-and-resume for real: `python -m keras_ip train` killed with SIGKILL after its first
checkpoint, then run again, continues from the saved step and finishes the full budget."""

import json
import os
import signal
import subprocess
import sys
import time

from keras_ip.experiments.records import read_rows

STEPS, LEARNING_STARTS, TRAIN_FREQ = 400, 150, 8
COMMAND = [sys.executable, "-m", "keras_ip", "train", "--env", "coordination", "--env-kwargs", '{"rows": 2, "cols": 2}',
           "--algorithms", "ip", "--seeds", "0", "--steps", str(STEPS), "--out", "experiment",
           "--checkpoint-interval", "100", "--log-interval", "50", "--eval-interval", "100", "--eval-episodes", "2",
           "--units", "16", "--batch-size", "32", "--buffer-size", "500", "--learning-starts", str(LEARNING_STARTS),
           "--train-freq", str(TRAIN_FREQ), "--gradient-steps", "1", "--jit-compile", "false", "--quiet"]


def test_a_killed_run_resumes_from_its_checkpoint_with_the_same_step_count(tmp_path):
    run = tmp_path / "experiment" / "ip" / "seed_0"
    checkpoint = run / "checkpoint" / "config.json"
    process = subprocess.Popen(COMMAND, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not checkpoint.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    saved_step = json.loads(checkpoint.read_text())["num_timesteps"]
    assert 100 <= saved_step < STEPS and saved_step % 100 == 0
    assert not json.loads((run / "status.json").read_text())["finished"]
    rows_before = [row for row in read_rows(run) if row["time/total_timesteps"] <= saved_step]

    result = subprocess.run(COMMAND[:-1], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"ip seed 0: resuming from step {saved_step}" in result.stdout

    status = json.loads((run / "status.json").read_text())
    assert status == {"num_timesteps": STEPS, "finished": True, "resumed_from": [saved_step]}
    final = json.loads(checkpoint.read_text())
    assert final["num_timesteps"] == STEPS
    # Exactly the updates of an uninterrupted run: one at every multiple of 8 from step 150 to 400.
    assert final["num_updates"] == len(range(152, STEPS + 1, TRAIN_FREQ)) == 32
    rows = read_rows(run)
    assert rows[:len(rows_before)] == rows_before  # the logs were appended to, not restarted
    progress = [row for row in rows if row["kind"] == "train"]
    assert [row["time/total_timesteps"] for row in progress] == list(range(50, STEPS + 1, 50))
    assert [row["time/episodes"] for row in progress] == list(range(50, STEPS + 1, 50))  # one-step episodes
    assert [row["time/total_timesteps"] for row in rows if row["kind"] == "eval"] == list(range(0, STEPS + 1, 100))
    assert "train/critic_loss" in progress[-1]
