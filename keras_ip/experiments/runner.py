"""Runs an `ExperimentSpec`: every run x seed trained, logged, checkpointed, resumable.

Layout of `spec.out`:
  spec.json                         the spec, with its runs expanded
  <run>/seed_<s>/config.json        what the run is (env, algorithm, hyperparameters, seed, steps)
  <run>/seed_<s>/status.json        steps done, finished or not, the steps it resumed from
  <run>/seed_<s>/progress.jsonl|csv, tensorboard/   its logs (`keras_ip.experiments.records`)
  <run>/seed_<s>/checkpoint/        the last `agent.save(..., include_replay=True)`
  summary.json, summary.csv, curve_*.png   the experiment's table and learning curves
"""

from __future__ import annotations

import json
import pathlib

from keras_ip.callbacks import Checkpoint
from keras_ip.experiments.algorithms import ALGORITHMS, get_algorithm
from keras_ip.experiments.records import ProgressLog, ProgressRecorder
from keras_ip.experiments.report import write_report
from keras_ip.experiments.spec import ExperimentSpec, RunSpec

SPEC_FILE, RUN_CONFIG_FILE, STATUS_FILE, CHECKPOINT_DIR = "spec.json", "config.json", "status.json", "checkpoint"
EVAL_SEED_BASE = 1_000_000  # evaluation episodes of seed s reset with EVAL_SEED_BASE + 1000 s + e


def run_experiment(spec: ExperimentSpec, verbose: bool = True) -> list[dict]:
    """Trains every run of `spec` for every seed, then writes the summary and the curves.

    Finished runs are skipped; a run with a checkpoint resumes from it. Returns the
    summary rows (`keras_ip.experiments.report.summary_rows`).
    """
    out = pathlib.Path(spec.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / SPEC_FILE).write_text(json.dumps({**spec.to_dict(), "runs": [vars(run) for run in spec.runs()]}, indent=2))
    for run in spec.runs():
        for seed in spec.seeds:
            train_run(spec, run, seed, verbose)
    rows, _ = write_report([out], out)
    return rows


def run_directory(out, run: str, seed: int) -> pathlib.Path:
    return pathlib.Path(out) / run / f"seed_{seed}"


def read_json(path, default=None):
    path = pathlib.Path(path)
    return json.loads(path.read_text()) if path.exists() else default


def train_run(spec: ExperimentSpec, run: RunSpec, seed: int, verbose: bool = False) -> dict:
    """Trains one run with one seed up to `spec.steps`, resuming from its checkpoint if any.

    Returns the run's status: {"num_timesteps", "finished", "resumed_from": [steps]}.
    """
    directory = run_directory(spec.out, run.name, seed)
    env_kwargs = spec.run_env_kwargs(run)
    config = json.loads(json.dumps({"env": spec.env, "env_kwargs": env_kwargs, "algorithm": run.algorithm,
                                    "hyperparameters": run.hyperparameters, "seed": seed}))
    _check_same_run(directory, config)
    status = read_json(directory / STATUS_FILE, {"num_timesteps": 0, "finished": False, "resumed_from": []})
    if status["finished"] and status["num_timesteps"] >= spec.steps:
        _say(verbose, f"{run.name} seed {seed}: finished at step {status['num_timesteps']}, skipped")
        return status
    algorithm, checkpoint = get_algorithm(run.algorithm), directory / CHECKPOINT_DIR
    if (checkpoint / RUN_CONFIG_FILE).exists():
        agent = algorithm.load(checkpoint)
        status["resumed_from"].append(agent.num_timesteps)
        _say(verbose, f"{run.name} seed {seed}: resuming from step {agent.num_timesteps}")
    else:
        agent = algorithm.make(spec.env, env_kwargs, seed, run.hyperparameters)
        status["resumed_from"] = []
        _say(verbose, f"{run.name} seed {seed}: starting")
    directory.mkdir(parents=True, exist_ok=True)
    (directory / RUN_CONFIG_FILE).write_text(json.dumps({**config, "steps": spec.steps}, indent=2))
    _write_status(directory, status, num_timesteps=agent.num_timesteps, finished=False)
    log = ProgressLog(directory, keep_until=status["resumed_from"][-1] if status["resumed_from"] else None)
    try:
        recorder = ProgressRecorder(log, spec.steps, spec.log_interval, spec.eval_interval, spec.eval_episodes,
                                    eval_seed=EVAL_SEED_BASE + 1000 * seed, eval_deterministic=spec.eval_deterministic)
        if agent.num_timesteps < spec.steps:
            agent.fit(spec.steps - agent.num_timesteps, progress_bar=verbose,
                      callbacks=[recorder, Checkpoint(checkpoint, spec.checkpoint_interval, include_replay=True)])
        agent.save(checkpoint, include_replay=True)
    finally:
        log.close()
        agent.close()  # ends worker processes and frees the simulator: libsumo runs one simulation per process
    _say(verbose, f"{run.name} seed {seed}: finished at step {agent.num_timesteps}, evaluation team return "
                  f"{log.last('eval/team_return')}")
    return _write_status(directory, status, num_timesteps=agent.num_timesteps, finished=True)


def _check_same_run(directory: pathlib.Path, config: dict):
    saved = read_json(directory / RUN_CONFIG_FILE)
    if saved is not None and {k: v for k, v in saved.items() if k != "steps"} != config:
        raise ValueError(f"{str(directory)!r} holds a different run: saved {saved}, this spec asks for {config}. "
                         "Choose another out directory, or delete that one.")


def _write_status(directory: pathlib.Path, status: dict, **updates) -> dict:
    status.update(updates)
    (directory / STATUS_FILE).write_text(json.dumps(status, indent=2))
    return status


def _say(verbose: bool, message: str):
    if verbose:
        print(message, flush=True)


def load_agent(path):
    """The agent of a run directory (its last checkpoint) or of a checkpoint directory, loaded
    by the class its save names (IPAgent, DGNAgent, MFQAgent, or a traffic controller)."""
    path = pathlib.Path(path)
    checkpoint = path / CHECKPOINT_DIR if (path / CHECKPOINT_DIR / RUN_CONFIG_FILE).exists() else path
    saved = read_json(checkpoint / RUN_CONFIG_FILE)
    if saved is None:
        raise FileNotFoundError(f"No run directory or checkpoint at {str(path)!r} (missing "
                                f"{str(checkpoint / RUN_CONFIG_FILE)!r}).")
    algorithm = saved.get("controller") or _saved_classes().get(saved.get("algorithm", "IPAgent"))
    if algorithm is None:
        raise ValueError(f"{str(checkpoint)!r} holds a saved {saved['algorithm']}, which keras-ip cannot load.")
    return get_algorithm(algorithm).load(checkpoint)


def _saved_classes() -> dict:
    """The class a save names -> the first registered algorithm built with it (IPAgent -> "ip")."""
    classes = {}
    for name, algorithm in ALGORITHMS.items():
        if algorithm.learns:
            classes.setdefault(algorithm.agent_class().__name__, name)
    return classes
