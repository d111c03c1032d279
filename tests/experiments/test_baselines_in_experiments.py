"""The baselines run in an experiment like IP: same logs, checkpoints and summary, and
`load_agent` finds each one's class from its checkpoint."""

import json
import pathlib

from keras_ip.experiments import ExperimentSpec, load_agent, run_experiment
from keras_ip.experiments.records import read_rows


BASELINES = {"dgn": "DGNAgent", "mfq": "MFQAgent", "isac": "ISACAgent", "iql": "IQLAgent", "pic": "PICAgent",
             "qmix": "QMIXAgent"}


def test_baselines_train_log_and_checkpoint(tmp_path):
    spec = ExperimentSpec(env="coordination", env_kwargs={"rows": 2, "cols": 2}, algorithms=list(BASELINES),
                          hyperparameters={"units": 16, "batch_size": 32, "buffer_size": 500, "learning_starts": 96,
                                           "train_freq": 8, "gradient_steps": 1, "jit_compile": False},
                          seeds=[0], steps=120, log_interval=40, eval_interval=120, eval_episodes=2,
                          checkpoint_interval=120, out=str(tmp_path / "baselines"))
    rows = run_experiment(spec, verbose=False)
    assert sorted((row["run"], row["seeds"], row["steps"]) for row in rows) == sorted((name, 1, 120) for name in BASELINES)
    for name, class_name in BASELINES.items():
        run = pathlib.Path(spec.out) / name / "seed_0"
        progress = [row for row in read_rows(run) if row["kind"] == "train"]
        assert [row["time/total_timesteps"] for row in progress] == [40, 80, 120]
        assert any(key.startswith("train/") for key in progress[-1])  # updates from step 96 on
        agent = load_agent(run)
        assert type(agent).__name__ == class_name and agent.num_timesteps == 120
        assert json.loads((run / "status.json").read_text())["finished"]
