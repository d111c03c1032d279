"""A small in-memory training log with Stable-Baselines3-style keys.

Keys: "time/total_timesteps", "time/episodes", "rollout/ep_team_return_mean" (mean over
the last `window` episodes of the team return, the sum of all agents' rewards),
"rollout/ep_len_mean", and "train/<metric>" for every scalar the learner returns.
"""

from __future__ import annotations

import collections


class Logger:
    """Keeps the latest value of every key and a history of records."""

    def __init__(self, window: int = 100):
        self.window = int(window)
        self._values = {}
        self.history = []
        self._returns = collections.deque(maxlen=self.window)
        self._lengths = collections.deque(maxlen=self.window)

    def record_episode(self, team_return: float, length: int):
        self._returns.append(float(team_return))
        self._lengths.append(int(length))
        self._values["rollout/ep_team_return_mean"] = sum(self._returns) / len(self._returns)
        self._values["rollout/ep_len_mean"] = sum(self._lengths) / len(self._lengths)
        self._values["time/episodes"] = self._values.get("time/episodes", 0) + 1

    def record_train(self, metrics: dict):
        """metrics: name -> scalar (tensor or float); converted to float here, off the hot path."""
        for name, value in metrics.items():
            self._values[f"train/{name}"] = float(value)

    def dump(self, step: int) -> dict:
        """Appends a snapshot of all current values to `history` and returns it."""
        record = dict(self._values, **{"time/total_timesteps": int(step)})
        self.history.append(record)
        return record

    def latest(self) -> dict:
        return dict(self._values)
