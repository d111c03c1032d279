"""One CityFlow engine per environment: one-second steps, phases, lane counts and trip metrics.

The same methods as SUMO's `keras_ip.envs.traffic.simulation.Simulation`, so
`TrafficSignalEnv` and the controllers drive either. Differences, because the simulators differ:

- The engine is built once, on the first `start`, and reused: `start` resets it (CityFlow's
  `reset`) and reseeds it; `end_episode` keeps it; `close` deletes it.
- "Halting" is CityFlow's waiting vehicle: speed < 0.1 m/s, as on SUMO.
- Trip metrics are tracked here, per second, from the vehicles the engine holds
  (`get_vehicles(include_waiting=True)`): a vehicle enters when it first appears (CityFlow's own
  enter time: when its flow creates it, possibly still waiting to get onto its first road) and
  arrives when it leaves. "trip_time" and "delay" are means over the arrived vehicles, as on
  SUMO; the delay is the trip time minus the free-flow time of its route (sum of road lengths,
  centre to centre, over min(vehicle maxSpeed, the road's lane speed)), which leaves out the
  crossing of each intersection and acceleration, so it is a little larger than SUMO's time
  loss for the same trip. "travel_time" is CityFlow's `get_average_travel_time()`, the metric
  CityFlow papers report: the mean over every vehicle that has entered, arrived or not, with the
  vehicles still in the network counted up to now.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import tempfile

import numpy as np

_VEHICLE_ID = re.compile(r"flow_(\d+)_\d+")


def import_cityflow():
    """The `cityflow` module, or ImportError saying how to install it (it is not on PyPI)."""
    try:
        import cityflow  # pylint: disable=import-outside-toplevel
    except ImportError as error:
        raise ImportError(
            "The CityFlow backend needs the cityflow package, which is not on PyPI. Build it from source: "
            "`pip install git+https://github.com/cityflow-project/CityFlow` (keep threads=1 with upstream's "
            "engine, whose destructor can hang with more threads), or from a patched copy as docs/traffic.md "
            "says.") from error
    return cityflow


class CityFlowSimulation:
    """A CityFlow engine running a `CityFlowScenario`, reading the given lanes each second.

    Init args:
      scenario: a `keras_ip.envs.traffic.cityflow.CityFlowScenario`.
      network: the scenario's `CityFlowNetwork` (`read_roadnet`).
      threads: CityFlow's thread_num (>= 1).
    """

    def __init__(self, scenario, network, threads: int = 1):
        self.scenario, self.network, self.threads = scenario, network, int(threads)
        self.lanes = list(network.signals.lanes)
        self._engine = None
        self._config_dir = None
        self._phase_ids = dict(zip(network.signals.tls_ids, network.phase_ids))
        self._yellow = dict(zip(network.signals.tls_ids, network.yellow_phase.tolist()))
        self._free_flow = _free_flow_times(scenario.flow_file, network)  # [F] seconds, per flow
        self._lane_counts = None

    def start(self, seed: int):
        """Resets the engine to time 0 (building it on first use) and seeds its random generator."""
        if self._engine is None:
            self._engine = import_cityflow().Engine(self._write_config(), thread_num=self.threads)
        else:
            self._engine.reset()
        self._engine.set_random_seed(int(seed) % (2**31 - 1))
        self._present = {}  # vehicle id -> (enter time, flow index), for the vehicles in the engine
        self._arrived, self._trip_sum, self._delay_sum = 0, 0.0, 0.0
        self._lane_counts = None
        for _ in range(int(self.scenario.begin)):
            self.step()

    def step(self) -> np.ndarray:
        """Advances one second. Returns the waiting vehicles (speed < 0.1 m/s) per lane, float64 [M]."""
        engine = self._engine
        engine.next_step()
        self._lane_counts = None
        self._track_trips(engine.get_vehicles(include_waiting=True), engine.get_current_time())
        waiting = engine.get_lane_waiting_vehicle_count()
        return np.fromiter((waiting[lane] for lane in self.lanes), np.float64, len(self.lanes))

    def vehicles(self) -> np.ndarray:
        """Vehicles on each lane after the last step, float64 [M]."""
        if self._lane_counts is None:
            counts = self._engine.get_lane_vehicle_count()
            self._lane_counts = np.fromiter((counts[lane] for lane in self.lanes), np.float64, len(self.lanes))
        return self._lane_counts

    def set_state(self, tls_id: str, state: str):
        """Shows a green state string of `tls_id` (its CityFlow phase), or its yellow phase for a state with 'y'."""
        phase = self._phase_ids[tls_id].get(state)
        if phase is None:
            if "y" not in state or self._yellow[tls_id] < 0:
                raise ValueError(f"Signal {tls_id!r} has no phase showing {state!r}.")
            phase = self._yellow[tls_id]
        self._engine.set_tl_phase(tls_id, phase)

    @property
    def time(self) -> float:
        """The CityFlow clock, seconds."""
        return float(self._engine.get_current_time())

    def trip_statistics(self) -> dict:
        """{"arrived", "trip_time", "delay" (means over arrived vehicles, s), "travel_time" (CityFlow's, s)}."""
        arrived = self._arrived
        return {"arrived": float(arrived), "trip_time": self._trip_sum / arrived if arrived else 0.0,
                "delay": float(self._delay_sum / arrived) if arrived else 0.0,
                "travel_time": float(self._engine.get_average_travel_time())}

    def end_episode(self):
        """Nothing to free: the engine is kept for the next `start`."""

    def close(self):
        """Deletes the engine and its config folder (safe to call twice)."""
        self._engine = None
        if self._config_dir is not None:
            self._config_dir.cleanup()
            self._config_dir = None

    def _track_trips(self, vehicle_ids: list, now: float):
        """Records the vehicles that entered and the trips that ended during the last second."""
        present, current = self._present, set(vehicle_ids)
        for vehicle in current.difference(present):
            match = _VEHICLE_ID.fullmatch(vehicle)
            present[vehicle] = (now, int(match.group(1)) if match else -1)
        for vehicle in set(present).difference(current):
            entered, flow = present.pop(vehicle)
            trip = now - entered
            self._arrived += 1
            self._trip_sum += trip
            self._delay_sum += max(0.0, trip - (self._free_flow[flow] if flow >= 0 else 0.0))

    def _write_config(self) -> str:
        """Writes CityFlow's config.json (1 s steps, signals set by us) into a temporary folder."""
        self._config_dir = tempfile.TemporaryDirectory(prefix="keras_ip_cityflow_")
        config = {"interval": 1.0, "seed": 0, "dir": "", "laneChange": False, "rlTrafficLight": True,
                  "saveReplay": False, "roadnetLogFile": "", "replayLogFile": "",
                  "roadnetFile": os.path.abspath(self.scenario.roadnet_file),
                  "flowFile": os.path.abspath(self.scenario.flow_file)}
        path = pathlib.Path(self._config_dir.name) / "config.json"
        path.write_text(json.dumps(config))
        return str(path)


def _free_flow_times(flow_file, network) -> np.ndarray:
    """float64 [F]: each flow's route length over its speed (min of vehicle maxSpeed and lane speeds), s."""
    flows = json.loads(pathlib.Path(flow_file).read_text())
    times = np.zeros(len(flows))
    for f, flow in enumerate(flows):
        top = float(flow["vehicle"]["maxSpeed"])
        times[f] = sum(network.road_lengths[road] / min(top, network.lane_speeds[road]) for road in flow["route"])
    return times
