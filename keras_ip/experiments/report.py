"""An experiment's results: final-evaluation table (mean +- std over seeds) and learning curves.

Reads only the files a run writes (config.json, progress.jsonl), so it works on finished,
running and killed experiments alike.
"""

from __future__ import annotations

import csv
import json
import pathlib

import numpy as np

from keras_ip.experiments.records import STEP, read_rows

TRAIN_RETURN, EVAL_RETURN = "rollout/ep_team_return_mean", "eval/team_return"


def load_runs(experiment_dirs) -> dict:
    """{label: {"algorithm": name, "seeds": {seed: rows}}} for every run of the experiments.

    A run's label is its directory name, prefixed by the experiment directory's name when
    several experiments are given. Seeds without progress rows are left out.
    """
    experiment_dirs = [pathlib.Path(d) for d in experiment_dirs]
    runs = {}
    for experiment in experiment_dirs:
        if not experiment.is_dir():
            raise FileNotFoundError(f"No experiment directory at {str(experiment)!r}.")
        for config_path in sorted(experiment.glob("*/seed_*/config.json")):
            seed_dir = config_path.parent
            rows = read_rows(seed_dir)
            if not rows:
                continue
            config = json.loads(config_path.read_text())
            label = seed_dir.parent.name if len(experiment_dirs) == 1 else f"{experiment.name}/{seed_dir.parent.name}"
            runs.setdefault(label, {"algorithm": config["algorithm"], "seeds": {}})["seeds"][config["seed"]] = rows
    return runs


def curve(seeds: dict, key: str):
    """Mean and std over seeds of `key` at the steps every seed logged it.

    Args:
      seeds: {seed: rows} of one run.
      key: a row key, e.g. "eval/team_return".
    Returns:
      (steps, mean, std), float arrays [T] (std over seeds, ddof 0); empty if a seed lacks `key`.
    """
    per_seed = [{row[STEP]: row[key] for row in rows if key in row} for rows in seeds.values()]
    steps = sorted(set.intersection(*(set(values) for values in per_seed))) if per_seed else []
    values = np.array([[values[step] for step in steps] for values in per_seed], dtype=float)  # [seeds, T]
    if not steps:
        return np.zeros(0), np.zeros(0), np.zeros(0)
    return np.array(steps, dtype=float), values.mean(axis=0), values.std(axis=0)


def summary_rows(runs: dict) -> list[dict]:
    """One row per run: its last evaluation's metrics, mean and std over seeds.

    Row keys: "run", "algorithm", "seeds" (how many), "steps" (the step of the last
    evaluation every seed reached), and "<metric>_mean", "<metric>_std" for each
    evaluation metric (e.g. "team_return_mean").
    """
    rows = []
    for label, run in runs.items():
        eval_keys = sorted({key for rows_ in run["seeds"].values() for row in rows_ for key in row
                            if key.startswith("eval/")})
        row = {"run": label, "algorithm": run["algorithm"], "seeds": len(run["seeds"])}
        for key in [EVAL_RETURN] + [k for k in eval_keys if k != EVAL_RETURN]:
            steps, mean, std = curve(run["seeds"], key)
            if len(steps):
                name = key.removeprefix("eval/")
                row.setdefault("steps", int(steps[-1]))
                row[f"{name}_mean"], row[f"{name}_std"] = float(mean[-1]), float(std[-1])
        rows.append(row)
    return rows


def format_table(rows: list[dict]) -> str:
    """The summary rows as an aligned text table: run, algorithm, seeds, steps, metric mean +- std."""
    metrics = list(dict.fromkeys(k.removesuffix("_mean") for row in rows for k in row if k.endswith("_mean")))
    header = ["run", "algorithm", "seeds", "steps"] + metrics
    lines = [header] + [[str(row[h]) for h in header[:3]] + [str(row.get("steps", "-"))]
                        + [f"{row[m + '_mean']:.4g} +- {row[m + '_std']:.3g}" if m + "_mean" in row else "-"
                           for m in metrics] for row in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip() for line in lines)


def plot_curves(runs: dict, key: str, path, title: str = "") -> pathlib.Path:
    """Writes a PNG of `key` against environment steps: one line per run, mean +- std over seeds."""
    import matplotlib  # pylint: disable=import-outside-toplevel

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt  # pylint: disable=import-outside-toplevel

    figure, axes = plt.subplots(figsize=(6, 4))
    for label, run in runs.items():
        steps, mean, std = curve(run["seeds"], key)
        if len(steps):
            line, = axes.plot(steps, mean, label=f"{label} ({len(run['seeds'])} seeds)")
            axes.fill_between(steps, mean - std, mean + std, color=line.get_color(), alpha=0.2)
    axes.set_xlabel("environment steps")
    axes.set_ylabel(key)
    axes.set_title(title)
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    path = pathlib.Path(path)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def write_report(experiment_dirs, out, prefix: str = "") -> tuple[list[dict], list[pathlib.Path]]:
    """Writes `out`/<prefix>summary.json, .csv and one <prefix>curve_<key>.png per evaluation
    metric and for the training team return; returns (summary rows, PNG paths)."""
    runs = load_runs(experiment_dirs)
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rows = summary_rows(runs)
    (out / f"{prefix}summary.json").write_text(json.dumps(rows, indent=2))
    columns = list(dict.fromkeys(key for row in rows for key in row))
    with open(out / f"{prefix}summary.csv", "w", newline="") as file:
        writer = csv.DictWriter(file, columns)
        writer.writeheader()
        writer.writerows(rows)
    keys = sorted({key for run in runs.values() for rows_ in run["seeds"].values() for row in rows_ for key in row
                   if key.startswith("eval/") or key == TRAIN_RETURN})
    title = ", ".join(pathlib.Path(d).name for d in experiment_dirs)
    plots = [plot_curves(runs, key, out / f"{prefix}curve_{key.replace('/', '_')}.png", title) for key in keys]
    return rows, plots
