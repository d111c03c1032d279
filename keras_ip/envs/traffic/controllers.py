"""Classical signal controllers (fixed-time, max-pressure, greedy) on the `TrafficSignalEnv` the learners use.

A controller is called with the environment after `reset` or `step` and returns the joint
action dict, so the environment's yellow and minimum-green rules apply to it as to any
agent. `run_episode` plays one episode and returns the same metrics as
`IPAgent.evaluate(metrics=True)`.
"""

from __future__ import annotations

import abc

import numpy as np

from keras_ip._checks import check_int
from keras_ip.envs.traffic.env import TrafficSignalEnv


class FixedTimeController:
    """Every signal cycles through its green phases, `green_time` seconds each, all in step.

    Phase p of signal i is requested during simulated seconds
    [k * green_time, (k + 1) * green_time) after the scenario begins, for k = p mod P_i;
    the switch to it shows `yellow_time` seconds of yellow first, inside those seconds.

    Example:
      >>> controller = FixedTimeController(env, green_time=30)
      >>> metrics = run_episode(env, controller, seed=0)

    Init args:
      env: the `TrafficSignalEnv` to control.
      green_time: seconds per phase, a multiple of env.delta_time.
    """

    def __init__(self, env, green_time: int = 30):
        check_int("green_time", green_time)
        if green_time % env.delta_time:
            raise ValueError(f"green_time must be a multiple of delta_time={env.delta_time}. "
                             f"Received: green_time={green_time}")
        self.env, self.green_time = env, int(green_time)

    def __call__(self) -> dict:
        """The joint action for the coming step: each signal's scheduled green phase."""
        env = self.env
        elapsed = env.simulation.time - env.scenario.begin  # seconds; the step about to run starts here
        phases = int(elapsed // self.green_time) % env.network.num_phases  # [N]
        return dict(zip(env.possible_agents, phases.tolist()))


class _LaneCountController(abc.ABC):
    """A controller that picks each signal's phase from the vehicles on every lane, now."""

    def __init__(self, env):
        self.env = env

    def __call__(self) -> dict:
        """The joint action for the coming step: each signal's phase of highest score."""
        phases = self._phases(self.env.network, self.env.simulation.vehicles())  # [N]
        return dict(zip(self.env.possible_agents, phases.tolist()))

    @abc.abstractmethod
    def _phases(self, network, vehicles: np.ndarray) -> np.ndarray:
        """int64 [N] phases from the `SignalNetwork` and the vehicles on each lane, float [M]."""


class MaxPressureController(_LaneCountController):
    """Each signal shows the green phase with the largest pressure (Varaiya 2013).

    The pressure of a link is the number of vehicles on its incoming lane minus those on
    its outgoing lane; a phase's pressure is the sum over the links it gives green to.
    Ties go to the lower phase index.

    Init args:
      env: the `TrafficSignalEnv` to control.
    """

    def _phases(self, network, vehicles: np.ndarray) -> np.ndarray:
        return max_pressure_phases(network, vehicles)


class GreedyController(_LaneCountController):
    """Each signal shows the green phase with the most vehicles on the incoming lanes it serves.

    RESCO's "Greedy" (its MAXWAVE agent, Ault & Sharon 2021): a phase's score is the number of
    vehicles, queued or approaching, on the incoming lanes it gives green to. Unlike
    max-pressure it ignores the outgoing lanes. RESCO counts the vehicles within its
    detectors' range per movement; here every vehicle on the lane counts, and a lane
    shared by two green movements counts once. Ties go to the lower phase index.

    Example:
      >>> controller = GreedyController(env)
      >>> metrics = run_episode(env, controller, seed=0)

    Init args:
      env: the `TrafficSignalEnv` to control.
    """

    def _phases(self, network, vehicles: np.ndarray) -> np.ndarray:
        return greedy_phases(network, vehicles)


def max_pressure_phases(network, vehicles: np.ndarray) -> np.ndarray:
    """Each signal's green phase of largest pressure.

    Args:
      network: a `SignalNetwork` (links, phases).
      vehicles: float [M], vehicles on each of `network.lanes`.
    Returns:
      int64 [N] phase indices, each < the signal's number of green phases.
    """
    valid = network.link_in >= 0  # [N, K]
    link_pressure = np.where(valid, vehicles[network.link_in] - vehicles[network.link_out], 0.0)  # [N, K]
    return _best_phases(network, np.einsum("npk,nk->np", network.serves, link_pressure))


def greedy_phases(network, vehicles: np.ndarray) -> np.ndarray:
    """Each signal's green phase with the most vehicles on the incoming lanes it serves.

    An incoming lane counts once for a phase if the phase gives green to any of its links.

    Args:
      network: a `SignalNetwork` (incoming lanes, links, phases).
      vehicles: float [M], vehicles on each of `network.lanes`.
    Returns:
      int64 [N] phase indices, each < the signal's number of green phases.
    """
    in_lanes = network.in_lanes  # [N, L], -1 pads
    feeds = (network.link_in[:, None, :] == in_lanes[:, :, None]) & (in_lanes >= 0)[:, :, None]  # [N, L, K]
    green_lanes = np.einsum("npk,nlk->npl", network.serves.astype(np.int64), feeds.astype(np.int64)) > 0  # [N, P, L]
    lane_vehicles = np.where(in_lanes >= 0, vehicles[in_lanes], 0.0)  # [N, L]
    return _best_phases(network, np.einsum("npl,nl->np", green_lanes, lane_vehicles))


def _best_phases(network, score: np.ndarray) -> np.ndarray:
    """The argmax over each signal's own green phases of score [N, P]; ties go to the lower index."""
    exists = np.arange(network.max_phases)[None, :] < network.num_phases[:, None]  # [N, P]
    return np.argmax(np.where(exists, score, -np.inf), axis=1)


def run_episode(env, controller, seed=None) -> dict:
    """Plays one episode of `env` with `controller`.

    Returns:
      {"team_return": sum of all rewards, and the last step's info metrics ("trip_time",
      "delay", "arrived", "queue_length")}.
    """
    env.reset(seed=seed)
    total, infos = 0.0, {}
    while env.agents:
        _, rewards, _, _, infos = env.step(controller())
        total += sum(rewards.values())
    return {"team_return": total, **next(iter(infos.values()), {})}


CONTROLLERS = {"fixed_time": FixedTimeController, "max_pressure": MaxPressureController, "greedy": GreedyController}


def evaluate_controller(env_kwargs: dict, controller: str, seed=None, **controller_kwargs) -> dict:
    """Builds a `TrafficSignalEnv(**env_kwargs)`, plays one episode with a named controller, closes it.

    A module-level function of plain arguments, so that `run_in_processes` can run several
    at once, one simulation per process.

    Args:
      env_kwargs: keyword arguments of `TrafficSignalEnv`.
      controller: a name in `CONTROLLERS`: "fixed_time", "max_pressure" or "greedy".
      seed: the episode's reset seed.
      controller_kwargs: e.g. green_time for "fixed_time".
    Returns:
      the `run_episode` metrics.
    """
    if controller not in CONTROLLERS:
        raise ValueError(f"controller must be one of {sorted(CONTROLLERS)}. Received: controller={controller!r}")
    env = TrafficSignalEnv(**env_kwargs)
    try:
        return run_episode(env, CONTROLLERS[controller](env, **controller_kwargs), seed=seed)
    finally:
        env.close()
