"""One run's progress log (JSON lines, CSV, TensorBoard) and the callback that fills it.

Rows are dicts of Stable-Baselines3-style keys. Progress rows ("kind": "train") hold
"time/total_timesteps" (environment steps), "time/episodes", "time/fps" (environment
steps per second since the previous row, evaluation time excluded), "time/wall_time_s"
(seconds since the run first started, summed over resumes), "rollout/ep_team_return_mean"
(the Logger's mean over the last 100 training episodes) and the latest "train/<loss>".
Evaluation rows ("kind": "eval") hold "eval/team_return" and "eval/<metric>" for each of
the environment's own metrics (e.g. coverage, delay).
"""

from __future__ import annotations

import csv
import json
import pathlib
import shutil
import time

import tensorflow as tf
from tensorflow.core.framework import summary_pb2

from keras_ip.callbacks import Callback, passed_multiple

STEP, EPISODES, WALL_TIME, FPS = "time/total_timesteps", "time/episodes", "time/wall_time_s", "time/fps"
JSONL_FILE, CSV_FILE, TENSORBOARD_DIR = "progress.jsonl", "progress.csv", "tensorboard"
_LEADING_COLUMNS = ("kind", STEP, EPISODES, WALL_TIME, FPS)
# What TensorBoard's scalar plugin (`tensorboard.summary.scalar`) attaches to a float32 scalar
# summary; written directly so that logging needs TensorFlow only, not the tensorboard package.
_SCALAR_METADATA = summary_pb2.SummaryMetadata(plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="scalars"),
                                               data_class=summary_pb2.DATA_CLASS_SCALAR)


def read_rows(directory) -> list[dict]:
    """The rows of `directory`/progress.jsonl, oldest first ([] if there is none)."""
    path = pathlib.Path(directory) / JSONL_FILE
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


class ProgressLog:
    """Appends rows to a run's progress.jsonl, progress.csv and TensorBoard event files.

    Init args:
      directory: the run's directory.
      keep_until: rows already on disk up to this environment step are kept (a run resumed
        from a checkpoint at that step); later rows, written after the checkpoint by the
        process that was killed, are dropped, and so is everything (TensorBoard files
        too) when keep_until is None (a fresh start).
    """

    def __init__(self, directory, keep_until: int | None):
        self.directory = pathlib.Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        if keep_until is None:
            shutil.rmtree(self.directory / TENSORBOARD_DIR, ignore_errors=True)
            self.rows = []
        else:
            self.rows = [row for row in read_rows(self.directory) if row[STEP] <= keep_until]
        self.columns = []
        (self.directory / JSONL_FILE).write_text("".join(json.dumps(row) + "\n" for row in self.rows))
        self._rewrite_csv()
        self._writer = tf.summary.create_file_writer(str(self.directory / TENSORBOARD_DIR))

    def write(self, row: dict):
        """Appends `row` (key -> number or "kind" -> str) to every log and flushes them."""
        self.rows.append(row)
        with open(self.directory / JSONL_FILE, "a") as file:
            file.write(json.dumps(row) + "\n")
        if set(row) - set(self.columns):
            self._rewrite_csv()  # a new column (e.g. the first losses): the header changes
        else:
            with open(self.directory / CSV_FILE, "a", newline="") as file:
                csv.DictWriter(file, self.columns).writerow(row)
        with self._writer.as_default(step=row[STEP]):
            for key, value in row.items():
                if key not in ("kind", STEP):
                    tf.summary.write(key, tf.constant(value, tf.float32), metadata=_SCALAR_METADATA)
        self._writer.flush()

    def last(self, key: str, default=None):
        """The latest value of `key` over the rows, or `default`."""
        return next((row[key] for row in reversed(self.rows) if key in row), default)

    def close(self):
        self._writer.close()

    def _rewrite_csv(self):
        seen = dict.fromkeys(key for row in self.rows for key in row)
        self.columns = [key for key in _LEADING_COLUMNS if key in seen] + [k for k in seen if k not in _LEADING_COLUMNS]
        with open(self.directory / CSV_FILE, "w", newline="") as file:
            writer = csv.DictWriter(file, self.columns)
            writer.writeheader()
            writer.writerows(self.rows)


class ProgressRecorder(Callback):
    """Writes a progress row every `log_interval` steps and an evaluation row every
    `eval_interval` steps, at step 0 of a fresh run and at the last step of the budget.

    Init args:
      log: the run's `ProgressLog`.
      total_steps: the run's budget; the step that reaches it is logged and evaluated.
      log_interval, eval_interval: environment steps between rows.
      eval_episodes: episodes per evaluation (`agent.evaluate(metrics=True)`).
      eval_seed: evaluation episode e is reset with eval_seed + e, the same at every
        evaluation, so curves compare like with like.
      eval_deterministic: greedy (True) or sampled (False) actions in evaluations.
    """

    def __init__(self, log: ProgressLog, total_steps: int, log_interval: int, eval_interval: int, eval_episodes: int,
                 eval_seed: int, eval_deterministic: bool = True):
        self.log, self.total_steps = log, total_steps
        self.log_interval, self.eval_interval, self.eval_episodes = log_interval, eval_interval, eval_episodes
        self.eval_seed, self.eval_deterministic = eval_seed, eval_deterministic

    def on_training_start(self, total_steps):
        self._wall_offset = self.log.last(WALL_TIME, 0.0)
        self._episode_offset = self.log.last(EPISODES, 0)  # the Logger's count restarts after a resume
        self._start = time.perf_counter()
        self._previous_step = self._row_step = self.agent.num_timesteps
        self._row_time, self._eval_seconds = self._start, 0.0
        if not self.log.rows:
            self.evaluate()

    def on_step(self):
        step = self.agent.num_timesteps
        last = step >= self.total_steps
        if last or passed_multiple(self._previous_step, step, self.log_interval):
            self.write_progress()
        if last or passed_multiple(self._previous_step, step, self.eval_interval):
            self.evaluate()
        self._previous_step = step
        return True

    def write_progress(self):
        now, step = time.perf_counter(), self.agent.num_timesteps
        seconds = now - self._row_time - self._eval_seconds
        record = self.agent.logger.latest()
        record[EPISODES] = self._episode_offset + record.get(EPISODES, 0)
        self.log.write({"kind": "train", STEP: step, **record, WALL_TIME: self._wall_time(now),
                        FPS: (step - self._row_step) / max(seconds, 1e-9)})
        self._row_step, self._row_time, self._eval_seconds = step, now, 0.0

    def evaluate(self):
        start = time.perf_counter()
        metrics = self.agent.evaluate(episodes=self.eval_episodes, deterministic=self.eval_deterministic,
                                      seed=self.eval_seed, metrics=True)
        end = time.perf_counter()
        self._eval_seconds += end - start
        self.log.write({"kind": "eval", STEP: self.agent.num_timesteps,
                        **{f"eval/{name}": value for name, value in metrics.items()}, WALL_TIME: self._wall_time(end)})

    def _wall_time(self, now: float) -> float:
        return self._wall_offset + now - self._start
