"""When does intention propagation pay? Every learner on the paper's tasks, one command, resumable.

Tasks (specs in benchmarks/experiments/benchmark/, one experiment each, run by
`keras_ip.experiments`, so every run is checkpointed and resumes where it stopped):

  coordination      the 3 x 3 coordination game of appendix F.1 (sampled evaluation)
  majority_vote     4 x 4, radius 2 (docs/propagation.md): the information is in the neighbours
  navigation15      cooperative navigation, N = 15, k-NN graph (k = 4)
  heterogeneous16   heterogeneous navigation, 8 big + 8 small agents (two groups), k-NN graph
  prey_predator15   15 learning predators, scripted prey (the prey's policy is fixed), k-NN graph
  grid4x4           RESCO grid4x4 on SUMO (delay), with the classical controllers

Scores are each run's last evaluation (the same evaluation episodes for every algorithm of a
seed), normalised per task by (score - random) / (reference - random): random is the uniformly
random policy on the same evaluation episodes; the reference is the exact optimum where one is
known (coordination 0, majority_vote 16), max-pressure on traffic, else the best finished run of
any algorithm on that task. Aggregates (IQM, mean, median with stratified-bootstrap 95 %
intervals, performance profiles) come from `keras_ip.experiments.aggregate` (rliable).

    python benchmarks/benchmark.py run --jobs 2            # everything; re-run to resume
    python benchmarks/benchmark.py run --tasks coordination --algorithms ip isac
    python benchmarks/benchmark.py status                  # cells finished / started / to do
    python benchmarks/benchmark.py report --docs           # tables, plots -> docs/results/benchmark/

`run` trains the cells seed-major (every task and algorithm of the first seed, then the next
seed), so an interrupted suite has whole seeds done; each cell is one process (libsumo runs one
simulation per process), `--jobs` of them at a time, each with cores / jobs TensorFlow threads.

Finished cells outlive the output directory: each one's record (config.json, status.json and its
progress log, a few kB; no checkpoint) is copied into the archive, `benchmarks/results/benchmark/`
by default, which is committed. `run`, `status` and `report` first restore every archived cell
missing from `--out`, so a fresh clone resumes the suite from the cells already finished (a cell
stopped half-way restarts from its checkpoint if `--out` still holds it, else from step 0).
"""

import argparse
import csv
import dataclasses
import json
import os
import pathlib
import shutil
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
SPECS = HERE / "experiments" / "benchmark"
DOCS = HERE.parent / "docs" / "results" / "benchmark"
DEFAULT_OUT = "runs/benchmark"
DEFAULT_ARCHIVE = HERE / "results" / "benchmark"
ARCHIVED_FILES = ("config.json", "status.json", "progress.jsonl", "progress.csv")
AGGREGATE_SEEDS = (0, 1, 2)  # the seeds every task has: the aggregate's runs x tasks matrices
COMPARISONS = ("isac", "iql", "independent", "ip_state_only", "ip_loopy_bp", "dgn", "mfq", "pic", "qmix")


@dataclasses.dataclass(frozen=True)
class Task:
    """How a task is scored.

    Attributes:
      key: the evaluation metric in the runs' progress records.
      higher_is_better: False for costs such as delay.
      reference: "optimum" (then `optimum` is the exact best score), "best_run" or the name of a
        run of the task (e.g. "max_pressure") whose mean over seeds is the reference.
      optimum: the exact optimum for reference="optimum".
    """

    key: str = "eval/team_return"
    higher_is_better: bool = True
    reference: str = "best_run"
    optimum: float | None = None


TASKS = {
    "coordination": Task(reference="optimum", optimum=0.0),
    "majority_vote": Task(reference="optimum", optimum=16.0),
    "navigation15": Task(),
    "heterogeneous16": Task(),
    "prey_predator15": Task(),
    "grid4x4": Task(key="eval/delay", higher_is_better=False, reference="max_pressure"),
}


def load_spec(task: str, out, steps=None, seeds=None):
    """The task's ExperimentSpec with its output under `out`/<task> (and optional overrides)."""
    from keras_ip.experiments import ExperimentSpec  # pylint: disable=import-outside-toplevel

    spec = ExperimentSpec.from_json(SPECS / f"{task}.json")
    spec.out = str(pathlib.Path(out) / task)
    if steps is not None:
        spec.steps = steps
        spec.eval_interval = min(spec.eval_interval, steps)
        spec.checkpoint_interval = min(spec.checkpoint_interval, steps)
    if seeds is not None:
        spec.seeds = [seed for seed in spec.seeds if seed in seeds]
    spec.validate()
    return spec


def cells(tasks, algorithms, seeds, out, steps=None) -> list:
    """(task, run, seed, `cell_status`) of every cell, seed-major: all of seed 0's, then seed 1's, ..."""
    specs = {task: load_spec(task, out, steps, seeds) for task in tasks}
    all_seeds = sorted({seed for spec in specs.values() for seed in spec.seeds})
    return [(task, run.name, seed, cell_status(spec, run.name, seed))
            for seed in all_seeds for task, spec in specs.items() if seed in spec.seeds
            for run in spec.runs() if algorithms is None or run.name in algorithms]


def cell_status(spec, run: str, seed: int) -> str:
    """"finished", "started" (a checkpoint to resume from) or "to do"."""
    from keras_ip.experiments.runner import read_json, run_directory  # pylint: disable=import-outside-toplevel

    directory = run_directory(spec.out, run, seed)
    status = read_json(directory / "status.json")
    if status and status["finished"] and status["num_timesteps"] >= spec.steps:
        return "finished"
    return "started" if (directory / "checkpoint").exists() else "to do"


def archive_cell(out, archive, task: str, run: str, seed: int) -> pathlib.Path:
    """Copies a finished cell's record (`ARCHIVED_FILES`, no checkpoint) from `out` into `archive`."""
    from keras_ip.experiments.runner import run_directory  # pylint: disable=import-outside-toplevel

    source, target = run_directory(pathlib.Path(out) / task, run, seed), run_directory(pathlib.Path(archive) / task, run,
                                                                                      seed)
    target.mkdir(parents=True, exist_ok=True)
    for name in ARCHIVED_FILES:
        if (source / name).exists():
            shutil.copy2(source / name, target / name)
    return target


def restore_archive(out, archive, tasks) -> int:
    """Copies every archived finished cell of `tasks` that `out` lacks (or holds unfinished) into `out`.

    A cell in `out` that is already finished is left alone. Returns the number restored.
    """
    from keras_ip.experiments.runner import read_json  # pylint: disable=import-outside-toplevel

    archive, restored = pathlib.Path(archive), 0
    for task in tasks:
        for status_path in sorted((archive / task).glob("*/seed_*/status.json")):
            if not read_json(status_path, {}).get("finished"):
                continue
            cell = status_path.parent
            target = pathlib.Path(out) / task / cell.relative_to(archive / task)
            if read_json(target / "status.json", {}).get("finished"):
                continue
            if target.exists():
                shutil.rmtree(target)
            target.mkdir(parents=True)
            for name in ARCHIVED_FILES:
                if (cell / name).exists():
                    shutil.copy2(cell / name, target / name)
            restored += 1
    return restored


def run_cell(task: str, run: str, seed: int, out, steps, threads: int):
    """Trains one cell in this process (the `cell` subcommand)."""
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)
    from keras_ip.experiments.runner import train_run  # pylint: disable=import-outside-toplevel

    spec = load_spec(task, out, steps)
    (run_spec,) = [r for r in spec.runs() if r.name == run]
    status = train_run(spec, run_spec, seed, verbose=False)
    print(json.dumps({"task": task, "run": run, "seed": seed, **status}), flush=True)


def run_all(args) -> int:
    """Trains every cell not finished, `args.jobs` processes at a time; returns the failures."""
    restore_archive(args.out, args.archive, args.tasks)
    todo = [(task, run, seed) for task, run, seed, state in cells(args.tasks, args.algorithms, args.seeds, args.out,
                                                                   args.steps) if state != "finished"]
    threads = max(1, (os.cpu_count() or 1) // args.jobs)
    running, failures = [], []
    print(json.dumps({"cells_to_train": len(todo), "jobs": args.jobs, "threads_per_job": threads}), flush=True)
    while todo or running:
        while todo and len(running) < args.jobs:
            task, run, seed = todo.pop(0)
            log = pathlib.Path(args.out) / task / run / f"seed_{seed}.log"
            log.parent.mkdir(parents=True, exist_ok=True)
            command = [sys.executable, str(pathlib.Path(__file__).resolve()), "cell", task, run, str(seed),
                       "--out", str(args.out), "--threads", str(threads)]
            if args.steps is not None:
                command += ["--steps", str(args.steps)]
            with open(log, "a") as handle:
                running.append(((task, run, seed), time.perf_counter(),
                                subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT)))
        time.sleep(1.0)
        for entry in list(running):
            (task, run, seed), start, process = entry
            if process.poll() is None:
                continue
            running.remove(entry)
            record = {"task": task, "run": run, "seed": seed, "returncode": process.returncode,
                      "minutes": round((time.perf_counter() - start) / 60, 2)}
            if process.returncode:
                failures.append(record)
            elif cell_status(load_spec(task, args.out, args.steps), run, seed) == "finished":
                archive_cell(args.out, args.archive, task, run, seed)
            print(json.dumps(record), flush=True)
    for task in args.tasks:
        report_experiment(load_spec(task, args.out, args.steps))
    return len(failures)


def report_experiment(spec):
    """The experiment's own summary and learning curves (`keras_ip.experiments.report`)."""
    from keras_ip.experiments.report import write_report  # pylint: disable=import-outside-toplevel

    if any(pathlib.Path(spec.out).glob("*/seed_*/config.json")):
        write_report([spec.out], spec.out)


def random_scores(spec, task: Task) -> dict:
    """{seed: the random policy's score} on each seed's evaluation episodes (cached in `spec.out`)."""
    from keras_ip.experiments.random_policy import evaluate_random_policy  # pylint: disable=import-outside-toplevel
    from keras_ip.experiments.runner import EVAL_SEED_BASE  # pylint: disable=import-outside-toplevel

    cache = pathlib.Path(spec.out) / "random_policy.json"
    scores = json.loads(cache.read_text()) if cache.exists() else {}
    for seed in spec.seeds:
        if str(seed) not in scores:
            result = evaluate_random_policy(spec.env, spec.env_kwargs, spec.eval_episodes, EVAL_SEED_BASE + 1000 * seed,
                                            action_seed=seed)
            scores[str(seed)] = result[task.key.removeprefix("eval/")]
            cache.parent.mkdir(parents=True, exist_ok=True)
            cache.write_text(json.dumps(scores, indent=2))
    return {int(seed): value for seed, value in scores.items() if int(seed) in spec.seeds}


def task_rows(name: str, spec) -> tuple[list, dict]:
    """(rows: task, algorithm, seed, steps, score, normalised_score; the task's anchors)."""
    import numpy as np  # pylint: disable=import-outside-toplevel

    from keras_ip.experiments.aggregate import final_scores, normalise  # pylint: disable=import-outside-toplevel

    task = TASKS[name]
    if not pathlib.Path(spec.out).is_dir():
        return [], {"task": name, "finished": 0}
    finished, unfinished = final_scores(spec.out, task.key, spec.steps)
    if not finished:
        return [], {"task": name, "finished": 0, "unfinished": len(unfinished)}
    best = max if task.higher_is_better else min
    if task.reference == "optimum":
        reference = task.optimum
    elif task.reference == "best_run":
        reference = best(score.score for score in finished)
    else:
        anchors = [score.score for score in finished if score.run == task.reference]
        if not anchors:
            return [], {"task": name, "finished": len(finished), "missing_reference": task.reference}
        reference = float(np.mean(anchors))
    random_score = float(np.mean(list(random_scores(spec, task).values())))
    rows = [{"task": name, "algorithm": score.run, "seed": score.seed, "steps": score.steps, "score": score.score,
             "normalised_score": float(normalise(score.score, random_score, reference))} for score in finished]
    return rows, {"task": name, "metric": task.key.removeprefix("eval/"), "random": random_score,
                  "reference": reference, "reference_kind": task.reference, "finished": len(finished),
                  "unfinished": [list(u) for u in unfinished]}


def per_task_table(rows) -> list:
    """Mean score and normalised score per (task, algorithm), with the seeds' min and max."""
    import numpy as np  # pylint: disable=import-outside-toplevel

    table = {}
    for row in rows:
        table.setdefault((row["task"], row["algorithm"]), []).append(row)
    return [{"task": task, "algorithm": algorithm, "seeds": len(group),
             "score_mean": float(np.mean([r["score"] for r in group])),
             "score_std": float(np.std([r["score"] for r in group])),
             "normalised_mean": float(np.mean([r["normalised_score"] for r in group])),
             "normalised_min": float(np.min([r["normalised_score"] for r in group])),
             "normalised_max": float(np.max([r["normalised_score"] for r in group]))}
            for (task, algorithm), group in table.items()]


def report(args) -> dict:
    """summary.csv, per_task.csv, aggregate.json and the plots, in `args.out` (and docs with --docs)."""
    from keras_ip.experiments import aggregate  # pylint: disable=import-outside-toplevel
    from keras_ip.experiments.algorithms import ALGORITHMS  # pylint: disable=import-outside-toplevel

    out = pathlib.Path(args.out)
    restore_archive(out, args.archive, args.tasks)
    rows, anchors = [], []
    for name in args.tasks:
        spec = load_spec(name, args.out, args.steps)
        report_experiment(spec)
        task_rows_, task_anchors = task_rows(name, spec)
        rows += task_rows_
        anchors.append(task_anchors)
    target = DOCS if args.docs else out
    target.mkdir(parents=True, exist_ok=True)
    _write_csv(target / "summary.csv", rows, ["task", "algorithm", "seed", "steps", "score", "normalised_score"])
    _write_csv(target / "per_task.csv", per_task_table(rows), ["task", "algorithm", "seeds", "score_mean", "score_std",
                                                               "normalised_mean", "normalised_min", "normalised_max"])
    learners = [name for name, algorithm in ALGORITHMS.items() if algorithm.learns]
    complete = {(row["task"], row["algorithm"], row["seed"]) for row in rows}
    tasks = [t for t in args.tasks if any(row["task"] == t for row in rows)]
    algorithms = [a for a in learners if tasks and all((t, a, s) in complete for t in tasks for s in AGGREGATE_SEEDS)]
    result = {"tasks": tasks, "seeds": list(AGGREGATE_SEEDS), "algorithms": algorithms, "anchors": anchors}
    if tasks and algorithms:
        matrices = aggregate.score_matrices(rows, algorithms, tasks, AGGREGATE_SEEDS)
        result["estimates"] = aggregate.interval_estimates(matrices, reps=args.reps)
        if "ip" in matrices:
            result["probability_of_improvement"] = {
                f"ip > {other}": aggregate.probability_of_improvement(matrices, "ip", other, reps=args.reps // 2)
                for other in COMPARISONS if other in matrices}
        aggregate.plot_intervals(result["estimates"], target / "aggregate.png", algorithms)
        aggregate.plot_profiles(matrices, target / "profiles.png", reps=args.reps // 2)
    (target / "aggregate.json").write_text(json.dumps(result, indent=2))
    if args.docs:
        for name in tasks:
            for path in (out / name).glob("curve_*.png"):
                shutil.copy(path, _mkdir(target / name) / path.name)
    return result


def status(args) -> dict:
    restore_archive(args.out, args.archive, args.tasks)
    counts = {}
    for task, run, seed, state in cells(args.tasks, args.algorithms, args.seeds, args.out):
        counts.setdefault(task, {}).setdefault(state, []).append(f"{run}/{seed}")
    return {task: {state: len(items) if state == "finished" else items for state, items in states.items()}
            for task, states in counts.items()}


def _write_csv(path, rows, columns):
    with open(path, "w", newline="") as file:
        writer = csv.DictWriter(file, columns)
        writer.writeheader()
        writer.writerows(rows)


def _mkdir(path: pathlib.Path) -> pathlib.Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("run", "status", "report"):
        command = commands.add_parser(name)
        command.add_argument("--tasks", nargs="+", default=[t for t in TASKS if (SPECS / f"{t}.json").exists()],
                             choices=list(TASKS))
        command.add_argument("--out", default=DEFAULT_OUT)
        command.add_argument("--archive", default=str(DEFAULT_ARCHIVE),
                             help="finished cells' records, kept across clones (default: %(default)s)")
        if name != "report":
            command.add_argument("--algorithms", nargs="+", default=None, help="run names (default: all)")
            command.add_argument("--seeds", nargs="+", type=int, default=None, help="default: each spec's")
        if name != "status":
            command.add_argument("--steps", type=int, default=None, help="override every spec's budget (tests)")
        if name == "run":
            command.add_argument("--jobs", type=int, default=2, help="cells trained at once")
        if name == "report":
            command.add_argument("--docs", action="store_true", help="write into docs/results/benchmark/")
            command.add_argument("--reps", type=int, default=5000, help="bootstrap resamples")
    cell = commands.add_parser("cell", help="train one cell in this process (used by run)")
    cell.add_argument("task", choices=list(TASKS))
    cell.add_argument("run")
    cell.add_argument("seed", type=int)
    cell.add_argument("--out", default=DEFAULT_OUT)
    cell.add_argument("--steps", type=int, default=None)
    cell.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    if args.command == "cell":
        run_cell(args.task, args.run, args.seed, args.out, args.steps, args.threads)
        return 0
    if args.command == "run":
        return 1 if run_all(args) else 0
    print(json.dumps(status(args) if args.command == "status" else report(args), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
