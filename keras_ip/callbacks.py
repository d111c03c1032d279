"""Training callbacks for `IPAgent.fit` (Stable-Baselines3 style).

A callback sees the agent through `self.agent` once `init_callback` ran. `on_step`
returns False to stop training.
"""

from __future__ import annotations

import sys
import time

from keras_ip._checks import check_int


class Callback:
    """Base class. Override any of the hooks; `on_step` returning False stops `fit`."""

    def init_callback(self, agent):
        self.agent = agent

    def on_training_start(self, total_steps: int):
        """Called once before the first environment step of a `fit` call."""

    def on_step(self) -> bool:
        """Called after every environment step (and the updates it triggered)."""
        return True

    def on_training_end(self):
        """Called once when `fit` returns, also after an early stop."""


class CallbackList(Callback):
    """Runs several callbacks in order; training stops if any `on_step` says so."""

    def __init__(self, callbacks):
        self.callbacks = list(callbacks)

    def init_callback(self, agent):
        super().init_callback(agent)
        for callback in self.callbacks:
            callback.init_callback(agent)

    def on_training_start(self, total_steps):
        for callback in self.callbacks:
            callback.on_training_start(total_steps)

    def on_step(self):
        return all([callback.on_step() for callback in self.callbacks])

    def on_training_end(self):
        for callback in self.callbacks:
            callback.on_training_end()


def passed_multiple(previous: int, step: int, every: int) -> bool:
    """True when the step count moved from `previous` to `step` across (or onto) a multiple of `every`."""
    return step // every > previous // every


def callback_list(agent, callbacks=None, progress_bar: bool = False) -> CallbackList:
    """`callbacks` (None, one Callback or a list) as one CallbackList bound to `agent`, with a
    ProgressBar first if `progress_bar`: what an agent's `fit` calls its hooks on."""
    if callbacks is None:
        callbacks = []
    elif isinstance(callbacks, Callback):
        callbacks = [callbacks]
    callback = CallbackList(([ProgressBar()] if progress_bar else []) + list(callbacks))
    callback.init_callback(agent)
    return callback


class ProgressBar(Callback):
    """Prints progress about `lines` times per fit: steps, speed, episode return, losses."""

    def __init__(self, lines: int = 20, stream=None):
        self.lines = max(1, int(lines))
        self.stream = stream or sys.stdout

    def on_training_start(self, total_steps):
        self._start_step = self.agent.num_timesteps
        self._total = total_steps
        self._every = max(1, total_steps // self.lines)
        self._start_time = time.perf_counter()

    def on_step(self):
        done = self.agent.num_timesteps - self._start_step
        self._printed = done % self._every == 0 or done == self._total
        if self._printed:
            print(self.describe(done), file=self.stream, flush=True)
        return True

    def on_training_end(self):
        done = self.agent.num_timesteps - self._start_step
        if not getattr(self, "_printed", True):  # stopped early between two lines
            print(self.describe(done) + " (stopped early)", file=self.stream, flush=True)

    def describe(self, done: int) -> str:
        record = self.agent.logger.latest()
        seconds = time.perf_counter() - self._start_time
        parts = [f"step {done}/{self._total}", f"{done / max(seconds, 1e-9):.0f} steps/s"]
        for key, label in (("rollout/ep_team_return_mean", "team return"), ("train/critic_loss", "critic loss"),
                           ("train/policy_loss", "policy loss"), ("train/entropy", "entropy"),
                           ("train/q_loss", "q loss")):  # q_loss: the DGN and MFQ baselines
            if key in record:
                parts.append(f"{label} {record[key]:.3f}")
        return " | ".join(parts)


class StopOnTeamReturn(Callback):
    """Stops training once the mean team return of recent episodes reaches `threshold`."""

    def __init__(self, threshold: float):
        self.threshold = float(threshold)

    def on_step(self):
        value = self.agent.logger.latest().get("rollout/ep_team_return_mean")
        return value is None or value < self.threshold


class Checkpoint(Callback):
    """Saves the agent (weights, optimiser state, counters and replay) every `every` steps.

    A save happens at each step that reaches or passes a multiple of `every`, also when
    the step count moves K at a time (n_envs=K environment copies).

    Each save is atomic (see `IPAgent.save`), so a run killed mid-save keeps the previous
    checkpoint; `IPAgent.load(path)` then resumes with the saved step count.
    """

    def __init__(self, path, every: int, include_replay: bool = True):
        self.path = path
        self.every = check_int("every", every)
        self.include_replay = include_replay

    def on_training_start(self, total_steps):
        self._last_step = self.agent.num_timesteps

    def on_step(self):
        step = self.agent.num_timesteps
        if passed_multiple(self._last_step, step, self.every):
            self.agent.save(self.path, include_replay=self.include_replay)
        self._last_step = step
        return True
