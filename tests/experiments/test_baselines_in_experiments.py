"""DGN and MFQ run in an experiment like IP: same logs, checkpoints and summary."""

import json
import pathlib

from keras_ip.experiments import ExperimentSpec, load_agent, run_experiment
from keras_ip.experiments.records import read_rows


def test_dgn_and_mfq_train_log_and_checkpoint(tmp_path):
    spec = ExperimentSpec(env="coordination", env_kwargs={"rows": 2, "cols": 2}, algorithms=["dgn", "mfq"],
                          hyperparameters={"units": 16, "batch_size": 32, "buffer_size": 500, "learning_starts": 96,
                                           "train_freq": 8, "gradient_steps": 1, "jit_compile": False},
                          seeds=[0], steps=120, log_interval=40, eval_interval=120, eval_episodes=2,
                          checkpoint_interval=120, out=str(tmp_path / "baselines"))
    rows = run_experiment(spec, verbose=False)
    assert [(row["run"], row["seeds"], row["steps"]) for row in rows] == [("dgn", 1, 120), ("mfq", 1, 120)]
    for name in ("dgn", "mfq"):
        run = pathlib.Path(spec.out) / name / "seed_0"
        progress = [row for row in read_rows(run) if row["kind"] == "train"]
        assert [row["time/total_timesteps"] for row in progress] == [40, 80, 120]
        assert any(key.startswith("train/") for key in progress[-1])  # updates from step 96 on
        agent = load_agent(run)
        assert type(agent).__name__ == f"{name.upper()}Agent" and agent.num_timesteps == 120
        assert json.loads((run / "status.json").read_text())["finished"]
