"""Experiments: named algorithm runs x seeds on one environment, with logs, checkpoints,
resuming, a summary table and learning curves (docs/experiments.md).

Example:
  >>> spec = ExperimentSpec(env="coordination", algorithms=["ip", "independent"], seeds=[0, 1],
  ...                       steps=3000, out="runs/coordination")
  >>> run_experiment(spec)   # writes runs/coordination/{ip,independent}/seed_*/..., summary, curves
"""

from keras_ip.experiments.algorithms import ALGORITHMS, Algorithm, get_algorithm
from keras_ip.experiments.report import format_table, load_runs, summary_rows, write_report
from keras_ip.experiments.runner import load_agent, run_experiment, train_run
from keras_ip.experiments.spec import ExperimentSpec, RunSpec

__all__ = ["ALGORITHMS", "Algorithm", "ExperimentSpec", "RunSpec", "format_table", "get_algorithm", "load_agent",
           "load_runs", "run_experiment", "summary_rows", "train_run", "write_report"]
