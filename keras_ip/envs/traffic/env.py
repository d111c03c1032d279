"""Traffic-signal control on SUMO as a PettingZoo `ParallelEnv` (paper section 5.2, appendix D.1).

One agent per traffic light ("signal_i" is `env.tls_ids[i]`, ordered by position, see
`network.py`). Every decision step lasts `delta_time` simulated seconds.

Action: the next green phase, Discrete(P) with P the largest number of green phases of
any signal. A signal with fewer phases P_i shows phase a mod P_i. If that is the phase
already shown, or the current phase has not yet been shown for `yellow_time + min_green`
seconds (counted from the start of its yellow), nothing changes. Otherwise the signal shows
the yellow transition for `yellow_time` seconds, then the new green (sumo-rl's timing).

Observation of signal i, float32 [P + 1 + 2 L] (L = the most incoming lanes of any signal;
zero-padded, so every agent has the same size):
  - one-hot of its green phase (the phase being switched to, during yellow), [P];
  - 1 if it may switch now (min green has passed), else 0, [1];
  - density of each incoming lane: vehicles / lane capacity (length / 7.5 m), in [0, 1], [L];
  - queue of each incoming lane: halting vehicles (speed < 0.1 m/s) / capacity, [L].

Reward: r_i = -reward_scale * W_i, where W_i is the waiting time accrued during the step
by the vehicles on signal i's incoming lanes, in vehicle-seconds: the sum over the step's
`delta_time` seconds of the number of halting vehicles on those lanes. With the default
reward_scale 0.01, a reward of -1 is 100 vehicle-seconds of waiting at the signal.

Info (every agent gets the same network-wide values, so `IPAgent.evaluate(metrics=True)`
reports them): "trip_time" and "delay", the mean travel time and time loss in seconds of
the vehicles that have arrived since the episode began (SUMO's tripinfo device; vehicles
still driving are not counted), "arrived" their number, and "queue_length", the mean
number of halting vehicles on a signal's incoming lanes, averaged over signals and over
the seconds of the episode so far.

The episode is truncated after `max_cycles` decisions (default: the scenario's time
window / delta_time); the simulation is then closed, which frees libsumo for another env.
"""

from __future__ import annotations

import functools

import gymnasium
import numpy as np

from keras_ip._checks import check_int, is_int
from keras_ip.envs._plumbing import CheckedParallelEnv
from keras_ip.envs.traffic import scenarios
from keras_ip.envs.traffic.network import read_network
from keras_ip.envs.traffic.phases import yellow_state
from keras_ip.envs.traffic.simulation import Simulation
from keras_ip.envs.traffic.sumo_home import sumo_home
from keras_ip.graphs import Graph


class TrafficSignalEnv(CheckedParallelEnv):
    """Every traffic light of a SUMO network is an agent choosing its next green phase.

    Example:
      >>> env = TrafficSignalEnv(grid=3, max_cycles=10)
      >>> observations, infos = env.reset(seed=0)
      >>> observations["signal_0"].shape, env.action_space("signal_0")
      ((19,), Discrete(2))
      >>> _ = env.step({agent: 0 for agent in env.agents})
      >>> env.close()

    Init args:
      scenario: a RESCO network name ("grid4x4", "arterial4x4", "cologne8", "ingolstadt21")
        or a `scenarios.Scenario`. Exactly one of scenario and grid.
      grid: n, for a synthetic n x n grid from `scenarios.grid(n, seed=route_seed, **grid_options)`.
      route_seed: seed of the synthetic grid's random trips.
      grid_options: more keyword arguments for `scenarios.grid` (length, lanes, flow, duration).
      delta_time: simulated seconds per decision step, > yellow_time.
      yellow_time: seconds of yellow between two green phases.
      min_green: seconds a green phase is shown before the signal may switch again.
      max_cycles: decisions per episode; default (end - begin) // delta_time of the scenario.
      reward_scale: the reward is -reward_scale * waiting vehicle-seconds (module docstring).
      backend: "libsumo" (fast, one simulation per process) or "traci" (see `simulation.py`).
      time_to_teleport: SUMO's --time-to-teleport, seconds (-1: never teleport).
      render_mode: must be None.
    """

    metadata = {"name": "traffic_signal_v0", "render_modes": [], "is_parallelizable": True}

    def __init__(self, scenario=None, grid=None, route_seed: int = 0, grid_options=None, delta_time: int = 5,
                 yellow_time: int = 2, min_green: int = 5, max_cycles=None, reward_scale: float = 0.01,
                 backend: str = "libsumo", time_to_teleport: float = 300, render_mode=None):
        sumo_home()  # fails early, with the install command, when SUMO is missing
        self.scenario = _scenario(scenario, grid, route_seed, grid_options)
        check_int("delta_time", delta_time)
        check_int("yellow_time", yellow_time, minimum=0)
        check_int("min_green", min_green, minimum=0)
        if yellow_time >= delta_time:
            raise ValueError(f"yellow_time must be shorter than delta_time. Received: yellow_time={yellow_time}, "
                             f"delta_time={delta_time}")
        if render_mode is not None:
            raise ValueError(f"TrafficSignalEnv has no render modes. Received: render_mode={render_mode!r}")
        self.delta_time, self.yellow_time, self.min_green = int(delta_time), int(yellow_time), int(min_green)
        window = int((self.scenario.end - self.scenario.begin) // self.delta_time)
        self.max_cycles = check_int("max_cycles", window if max_cycles is None else max_cycles)
        self.reward_scale = float(reward_scale)
        self.render_mode = render_mode
        self.network = read_network(self.scenario.net_file)
        net = self.network
        self.tls_ids = net.tls_ids
        self.possible_agents = [f"signal_{i}" for i in range(net.num_agents)]
        self.agents = []
        obs_dim = net.max_phases + 1 + 2 * net.max_lanes
        self.observation_spaces = {agent: gymnasium.spaces.Box(0.0, 1.0, shape=(obs_dim,), dtype=np.float32)
                                   for agent in self.possible_agents}
        self.action_spaces = {agent: gymnasium.spaces.Discrete(net.max_phases) for agent in self.possible_agents}
        self._lane_mask = net.in_lanes >= 0  # [N, L]
        self._in_lanes = np.where(self._lane_mask, net.in_lanes, 0)  # [N, L], padding points at lane 0
        self._lane_owner = np.repeat(np.arange(net.num_agents), self._lane_mask.sum(1))  # [sum L_i]
        self.simulation = Simulation(self.scenario, net.lanes, backend, time_to_teleport)
        self.np_random = np.random.default_rng()
        self._cycle = 0

    # ------------------------------------------------------------------------- graph hooks
    def default_graph(self) -> Graph:
        """The road graph: signals joined by a road are neighbours (graph="grid" uses it)."""
        return self.network.graph

    def agent_positions(self) -> np.ndarray:
        """float64 [N, 2] signal positions in metres (for graph="knn")."""
        return self.network.positions

    # ------------------------------------------------------------------------- episode
    def reset(self, seed: int | None = None, options: dict | None = None):
        """Restarts SUMO at the scenario's begin time; returns (observations, infos).

        With a seed, `np_random`, the spaces and SUMO's own random seed follow from it.
        """
        if seed is not None:
            self.np_random = np.random.default_rng(seed)
            self._seed_spaces(self.np_random)
        n = self.network.num_agents
        self.simulation.start(seed=int(self.np_random.integers(2**31 - 1)))
        self.green = np.zeros(n, np.int64)  # [N] green phase shown (or coming after the yellow)
        self.since_change = np.zeros(n, np.int64)  # [N] seconds since the last switch began
        self.yellow_left = np.zeros(n, np.int64)  # [N] seconds of yellow still to show
        for i in range(n):
            self.simulation.set_state(self.tls_ids[i], self.network.green_states[i][0])
        self._queue_sum, self._seconds = 0.0, 0
        self._halting = self.simulation.step()  # [M]
        self.agents = list(self.possible_agents)
        self._cycle = 0
        return self._observations(), {agent: {} for agent in self.agents}

    def step(self, actions: dict):
        """Applies each signal's next green phase, runs `delta_time` seconds; see the module docstring."""
        self._check_joint_action(actions)
        self._switch(self._phases(actions))
        waiting = np.zeros(self.network.num_agents)  # [N] vehicle-seconds
        for _ in range(self.delta_time):
            self._halting = self.simulation.step()  # [M]
            halting_in = self._halting[self._in_lanes[self._lane_mask]]  # [sum L_i]
            waiting += np.bincount(self._lane_owner, weights=halting_in, minlength=self.network.num_agents)
            self._queue_sum += halting_in.sum() / self.network.num_agents
            self._seconds += 1
            self._tick()
        observations = self._observations()
        metrics = dict(self.simulation.trip_statistics(), queue_length=float(self._queue_sum / self._seconds))
        rewards = 0.0 - self.reward_scale * waiting  # [N]; 0.0, not -0.0
        result = self._clocked_step_result(observations, rewards, {agent: dict(metrics) for agent in self.agents})
        if not self.agents:
            self.simulation.close()
        return result

    def close(self):
        """Ends the SUMO simulation (frees libsumo for another environment in this process)."""
        self.simulation.close()

    # ------------------------------------------------------------------------- signals
    def _phases(self, actions: dict) -> np.ndarray:
        """int64 [N] green phase indices: each action mod the signal's phase count."""
        a = np.array([actions[agent] for agent in self.possible_agents]).reshape(-1)  # [N]
        bad = [(agent, actions[agent]) for agent, value in zip(self.possible_agents, a)
               if not is_int(value) or not 0 <= value < self.network.max_phases]
        if len(a) != self.network.num_agents or bad:
            raise ValueError(f"Each action must be an integer in [0, {self.network.max_phases}). "
                             f"Received: {dict(bad[:3]) if bad else actions}")
        return a.astype(np.int64) % self.network.num_phases

    def _switch(self, phases: np.ndarray):
        """Starts the yellow transition where a signal asks for another phase and may switch."""
        ready = self.since_change >= self.yellow_time + self.min_green  # [N]
        for i in np.flatnonzero((phases != self.green) & ready):
            states = self.network.green_states[i]
            self.simulation.set_state(self.tls_ids[i], _yellow(states[self.green[i]], states[phases[i]]))
            self.green[i], self.since_change[i], self.yellow_left[i] = phases[i], 0, self.yellow_time
            if self.yellow_time == 0:
                self.simulation.set_state(self.tls_ids[i], states[phases[i]])

    def _tick(self):
        """One second passes: clocks advance, and finished yellows turn to their green."""
        self.since_change += 1
        yellow = self.yellow_left > 0
        self.yellow_left[yellow] -= 1
        for i in np.flatnonzero(yellow & (self.yellow_left == 0)):
            self.simulation.set_state(self.tls_ids[i], self.network.green_states[i][self.green[i]])

    def _observations(self) -> dict:
        net = self.network
        capacity = net.lane_capacity[self._in_lanes]  # [N, L]
        density = np.where(self._lane_mask, np.minimum(1.0, self.simulation.vehicles()[self._in_lanes] / capacity), 0)
        queue = np.where(self._lane_mask, np.minimum(1.0, self._halting[self._in_lanes] / capacity), 0)
        phase = np.eye(net.max_phases)[self.green]  # [N, P]
        may_switch = (self.since_change >= self.yellow_time + self.min_green)[:, None]  # [N, 1]
        stacked = np.concatenate([phase, may_switch, density, queue], axis=1).astype(np.float32)  # [N, P + 1 + 2L]
        return dict(zip(self.possible_agents, stacked))


@functools.lru_cache(maxsize=4096)
def _yellow(current: str, following: str) -> str:
    return yellow_state(current, following)


def _scenario(scenario, grid, route_seed, grid_options) -> scenarios.Scenario:
    """The Scenario for the (scenario, grid) arguments; exactly one of the two is given."""
    if (scenario is None) == (grid is None):
        raise ValueError(f"Pass exactly one of scenario (a RESCO name or a Scenario) and grid (an int n). "
                         f"Received: scenario={scenario!r}, grid={grid!r}")
    if grid is not None:
        return scenarios.grid(grid, seed=route_seed, **(grid_options or {}))
    if isinstance(scenario, scenarios.Scenario):
        return scenario
    if isinstance(scenario, str):
        return scenarios.resco(scenario)
    raise TypeError(f"scenario must be a RESCO name or a Scenario. Received: scenario={scenario!r}")
