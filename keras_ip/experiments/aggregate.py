"""Scores across tasks: final scores per run and seed, normalised, aggregated with rliable.

The statistics follow Agarwal et al., "Deep RL at the edge of the statistical precipice"
(NeurIPS 2021), through their library `rliable` (extra "benchmark"):

  normalised score   (score - random) / (reference - random): 0 is a uniformly random policy,
                     1 the task's reference (an exact optimum, a classical controller or the
                     best run); the formula holds for lower-is-better scores such as delay too
  IQM                the interquartile mean over all runs x tasks: the mean of the middle 50 %
                     of normalised scores, robust to outlying runs and tasks
  95 % intervals     stratified bootstrap: runs resampled with replacement within each task
  performance profile  for each tau, the fraction of runs x tasks with normalised score > tau

`final_scores` reads the experiment runner's records (`keras_ip.experiments.report`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import pathlib
import warnings

import numpy as np

from keras_ip.experiments.records import STEP
from keras_ip.experiments.report import load_runs

METRICS = ("IQM", "Mean", "Median")


@dataclasses.dataclass(frozen=True)
class FinalScore:
    """The last evaluation of one run and seed.

    Attributes:
      run: the run's name in its experiment (e.g. "ip", "dgn").
      algorithm: its registered algorithm.
      seed: the training seed.
      steps: the environment step of that evaluation.
      score: the evaluated metric there (e.g. team return, or delay in seconds).
    """

    run: str
    algorithm: str
    seed: int
    steps: int
    score: float


def final_scores(experiment_dir, key: str, steps: int) -> tuple[list[FinalScore], list[tuple[str, int, int]]]:
    """Each run's and seed's evaluation of `key` at its last evaluated step, if that is >= `steps`.

    Args:
      experiment_dir: an experiment's output directory (`ExperimentSpec.out`).
      key: a progress key, e.g. "eval/team_return" or "eval/delay".
      steps: the budget: runs whose last evaluation came earlier are unfinished.
    Returns:
      (finished scores, [(run, seed, last evaluated step)] of the unfinished ones).
    """
    finished, unfinished = [], []
    for run, record in load_runs([experiment_dir]).items():
        for seed, rows in sorted(record["seeds"].items()):
            evaluated = [row for row in rows if key in row]
            last_step = int(evaluated[-1][STEP]) if evaluated else 0
            if last_step < steps:
                unfinished.append((run, seed, last_step))
                continue
            finished.append(FinalScore(run, record["algorithm"], int(seed), last_step, float(evaluated[-1][key])))
    return finished, unfinished


def normalise(score, random_score: float, reference: float):
    """(score - random) / (reference - random), elementwise; ValueError when the two anchors coincide."""
    if reference == random_score:
        raise ValueError(f"The reference and random scores must differ to normalise. Received: reference={reference}, "
                         f"random={random_score}")
    return (np.asarray(score, dtype=float) - random_score) / (reference - random_score)


def score_matrices(rows, algorithms, tasks, seeds) -> dict:
    """{algorithm: float [len(seeds), len(tasks)]} of normalised scores, the layout rliable takes.

    Args:
      rows: dicts with "task", "algorithm", "seed" and "normalised_score".
      algorithms: the matrices' keys.
      tasks: their columns.
      seeds: their rows. Every (task, algorithm, seed) must have a row, else ValueError naming
        the missing cells.
    """
    table = {(row["task"], row["algorithm"], int(row["seed"])): float(row["normalised_score"]) for row in rows}
    missing = [(task, algorithm, seed) for algorithm in algorithms for task in tasks for seed in seeds
               if (task, algorithm, seed) not in table]
    if missing:
        raise ValueError(f"No normalised score for {len(missing)} (task, algorithm, seed) cells, e.g. {missing[:5]}")
    return {algorithm: np.array([[table[(task, algorithm, seed)] for task in tasks] for seed in seeds])
            for algorithm in algorithms}


def aggregate_metrics(scores: np.ndarray) -> np.ndarray:
    """[IQM, mean, median] of a [runs, tasks] matrix of normalised scores (`METRICS` order)."""
    from rliable import metrics  # pylint: disable=import-outside-toplevel

    return np.array([metrics.aggregate_iqm(scores), metrics.aggregate_mean(scores),
                     metrics.aggregate_median(scores)])


def interval_estimates(matrices: dict, reps: int = 5000, seed: int = 0) -> dict:
    """{algorithm: {metric: (point, low, high)}}: `METRICS` with stratified-bootstrap 95 % intervals."""
    from rliable import library  # pylint: disable=import-outside-toplevel

    with _quiet_arch():
        points, intervals = library.get_interval_estimates(matrices, aggregate_metrics, reps=reps,
                                                           random_state=np.random.RandomState(seed))
    return {algorithm: {metric: (float(points[algorithm][m]), float(intervals[algorithm][0, m]),
                                 float(intervals[algorithm][1, m])) for m, metric in enumerate(METRICS)}
            for algorithm in matrices}


def probability_of_improvement(matrices: dict, first: str, second: str, reps: int = 2000, seed: int = 0) -> tuple:
    """P(a run of `first` scores above a run of `second` on the same task), averaged over tasks,
    with its stratified-bootstrap 95 % interval: (point, low, high)."""
    from rliable import library, metrics  # pylint: disable=import-outside-toplevel

    pair = {f"{first},{second}": (matrices[first], matrices[second])}
    with _quiet_arch():
        points, intervals = library.get_interval_estimates(pair, metrics.probability_of_improvement, reps=reps,
                                                           random_state=np.random.RandomState(seed))
    key = f"{first},{second}"
    low, high = np.ravel(intervals[key])
    return float(np.ravel(points[key])[0]), float(low), float(high)


def plot_intervals(estimates: dict, path, algorithms=None) -> pathlib.Path:
    """rliable's interval plot of `interval_estimates` (one panel per metric), saved to `path`."""
    import matplotlib  # pylint: disable=import-outside-toplevel

    matplotlib.use("Agg")
    from rliable import plot_utils  # pylint: disable=import-outside-toplevel

    algorithms = list(algorithms or estimates)
    points = {a: np.array([estimates[a][m][0] for m in METRICS]) for a in algorithms}
    intervals = {a: np.array([[estimates[a][m][1] for m in METRICS], [estimates[a][m][2] for m in METRICS]])
                 for a in algorithms}
    figure, _ = plot_utils.plot_interval_estimates(points, intervals, metric_names=list(METRICS),
                                                   algorithms=algorithms, colors=_colours(algorithms),
                                                   xlabel="Normalised score",
                                                   xlabel_y_coordinate=-0.1 - 1.0 / len(algorithms))
    return _save(figure, path)


def plot_profiles(matrices: dict, path, taus=None, reps: int = 2000) -> pathlib.Path:
    """Performance profiles (fraction of runs x tasks with normalised score > tau) with
    bootstrap 95 % bands, saved to `path`."""
    import matplotlib  # pylint: disable=import-outside-toplevel

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel
    from matplotlib.lines import Line2D  # pylint: disable=import-outside-toplevel
    from rliable import library, plot_utils  # pylint: disable=import-outside-toplevel

    taus = np.linspace(-0.5, 1.25, 71) if taus is None else np.asarray(taus)
    profiles, bands = library.create_performance_profile(matrices, taus, reps=reps)
    colours = _colours(list(matrices))
    figure, axis = plt.subplots(figsize=(8, 4.5))
    plot_utils.plot_performance_profiles(profiles, taus, performance_profile_cis=bands, ax=axis, colors=colours,
                                         xlabel=r"Normalised score ($\tau$)",
                                         ylabel=r"Fraction of runs with score > $\tau$")
    axis.legend(handles=[Line2D([], [], color=colours[name], label=name) for name in matrices],
                loc="lower left", fontsize=8, ncol=2)
    return _save(figure, path)


def _colours(algorithms) -> dict:
    """One colour per algorithm (matplotlib's tab20 cycle), the same in every plot of a report."""
    import matplotlib  # pylint: disable=import-outside-toplevel

    palette = matplotlib.colormaps["tab20"].colors
    return {name: palette[(2 * i) % 20 + (2 * i) // 20] for i, name in enumerate(algorithms)}


@contextlib.contextmanager
def _quiet_arch():
    """rliable 1.2 seeds arch's bootstrap with `random_state`, which arch 7 deprecates in a
    FutureWarning on every call; the seeding still works, so the warning is silenced here."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "random_state is deprecated", FutureWarning)
        yield


def _save(figure, path) -> pathlib.Path:
    import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel

    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(figure)
    return path
