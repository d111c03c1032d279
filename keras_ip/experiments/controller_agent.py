"""`ControllerAgent`: a classical traffic controller behind IPAgent's interface.

Experiments log, evaluate and plot every algorithm the same way; this wrapper lets the
fixed-time, max-pressure and greedy controllers (`keras_ip.envs.traffic.controllers`) take part.
The simulator rules a controller plays under (decision interval delta_time, yellow_time,
min_green) are the environment's env_kwargs, the same rules as a learner's; an experiment
run may set its own (`ExperimentSpec`'s per-run "env_kwargs").
A controller learns nothing: `fit` plays the environment for the step budget (so the
training return and steps per second are measured like a learner's) and its evaluation
curve is a flat line.
"""

from __future__ import annotations

import json
import os
import pathlib

import numpy as np

from keras_ip._checks import check_int
from keras_ip.callbacks import callback_list
from keras_ip.envs.registry import make_env
from keras_ip.envs.traffic.controllers import CONTROLLERS, run_episode
from keras_ip.envs.traffic.env import TrafficSignalEnv
from keras_ip.logger import Logger

CONFIG_FILE = "config.json"


class ControllerAgent:
    """Runs "max_pressure", "greedy" or "fixed_time" on a `TrafficSignalEnv` with IPAgent's methods.

    Example:
      >>> agent = ControllerAgent("traffic", controller="max_pressure", env_kwargs={"grid": 2}, seed=0)
      >>> agent.fit(100).evaluate(episodes=1, metrics=True)["delay"]

    Init args:
      env: a `TrafficSignalEnv` or a registered name whose factory makes one ("traffic").
      controller: "max_pressure", "greedy" or "fixed_time".
      green_time: seconds per phase of "fixed_time" (None: the controller's default, 30), its
        one setting; the others have none.
      seed: seeds the training episodes' resets.
      env_kwargs: keyword arguments of `make_env` when `env` is a name, including the
        simulator rules (delta_time, yellow_time, min_green).
    """

    def __init__(self, env, controller: str = "max_pressure", green_time: int | None = None, seed=None,
                 env_kwargs=None):
        if controller not in CONTROLLERS:
            raise ValueError(f"controller must be one of {sorted(CONTROLLERS)}. Received: controller={controller!r}")
        if green_time is not None and controller != "fixed_time":
            raise ValueError(f"green_time only applies to controller='fixed_time'. Received: green_time={green_time!r}"
                             f", controller={controller!r}")
        self.env_name = env if isinstance(env, str) else None
        self.env_kwargs = dict(env_kwargs or {})
        self.env = make_env(env, **self.env_kwargs) if self.env_name is not None else env
        if not isinstance(self.env, TrafficSignalEnv):
            raise ValueError(f"The {controller} controller sets traffic signals and needs a TrafficSignalEnv "
                             f"(env='traffic'). Received: env={env!r}")
        self.controller_name, self.green_time, self.seed = controller, green_time, seed
        options = {} if green_time is None else {"green_time": check_int("green_time", green_time)}
        self.controller = CONTROLLERS[controller](self.env, **options)
        self.logger = Logger()
        self.num_timesteps = 0
        self._rng = np.random.default_rng(seed)
        self._in_episode = False
        self._evaluations = {}

    def fit(self, steps: int, callbacks=None, progress_bar: bool = True) -> "ControllerAgent":
        """Plays `steps` decision steps with the controller (nothing is learned); returns self."""
        steps = check_int("steps", steps)
        callback = callback_list(self, callbacks, progress_bar)
        callback.on_training_start(steps)
        for _ in range(steps):
            if not self._in_episode:
                self.env.reset(seed=None if self.seed is None else int(self._rng.integers(2**31 - 1)))
                self._in_episode, self._episode_return, self._episode_length = True, 0.0, 0
            _, rewards, _, _, _ = self.env.step(self.controller())
            self.num_timesteps += 1
            self._episode_return += sum(rewards.values())
            self._episode_length += 1
            if not self.env.agents:
                self.logger.record_episode(self._episode_return, self._episode_length)
                self._in_episode = False
            if not callback.on_step():
                break
        self.logger.dump(self.num_timesteps)
        callback.on_training_end()
        return self

    def evaluate(self, episodes: int = 10, deterministic: bool = True, seed=None, metrics: bool = False):
        """Mean team return over `episodes` episodes (episode e reset with seed + e).

        The controller has no state that changes, so a repeated call with the same episodes
        and seed returns the stored result. `deterministic` is accepted for the interface
        and ignored: the controllers are deterministic.
        Returns:
          a float, or with metrics=True {"team_return": ..., "trip_time", "delay", "arrived",
          "queue_length"}, each the mean over episodes.
        """
        del deterministic
        key = (check_int("episodes", episodes), seed)
        self._in_episode = False  # an evaluation resets the environment
        if key not in self._evaluations:
            results = [run_episode(self.env, self.controller, seed=None if seed is None else seed + e)
                       for e in range(episodes)]
            self._evaluations[key] = {name: float(np.mean([r[name] for r in results])) for name in results[0]}
        result = self._evaluations[key]
        return dict(result) if metrics else result["team_return"]

    def export(self, path):
        raise ValueError(f"The {self.controller_name} controller reads the simulator's lane counts, not "
                         f"observations; it has no policy network to export. Received: path={str(path)!r}")

    def save(self, path, include_replay: bool = False) -> str:
        """Writes the controller's settings and counters to `path`/config.json, atomically.

        include_replay is accepted for the interface (a controller has no replay).
        """
        del include_replay
        path = pathlib.Path(path)
        path.mkdir(parents=True, exist_ok=True)
        state = {"controller": self.controller_name, "green_time": self.green_time, "seed": self.seed,
                 "env_name": self.env_name, "env_kwargs": self.env_kwargs, "num_timesteps": self.num_timesteps,
                 "rng_state": self._rng.bit_generator.state}
        staging = path / f".{CONFIG_FILE}.tmp"
        staging.write_text(json.dumps(state, indent=2))
        os.replace(staging, path / CONFIG_FILE)
        return str(path)

    @classmethod
    def load(cls, path, env=None) -> "ControllerAgent":
        """The controller saved at `path`, with its step count; env None re-creates the environment."""
        path = pathlib.Path(path)
        if not (path / CONFIG_FILE).exists():
            raise FileNotFoundError(f"No saved ControllerAgent at {str(path)!r} (missing {CONFIG_FILE}).")
        state = json.loads((path / CONFIG_FILE).read_text())
        agent = cls(state["env_name"] if env is None else env, controller=state["controller"],
                    green_time=state["green_time"], seed=state["seed"],
                    env_kwargs=state["env_kwargs"] if env is None else None)
        agent.num_timesteps = state["num_timesteps"]
        agent._rng.bit_generator.state = state["rng_state"]
        return agent

    def close(self):
        self.env.close()
