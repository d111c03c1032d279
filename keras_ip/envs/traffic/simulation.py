"""One running SUMO simulation: start, one-second steps, signal states, lane and trip readings.

Two backends with the same API:
  - "libsumo" (default): SUMO inside this Python process, the fastest, but libsumo holds
    ONE simulation per process. A second environment that tries to run alongside raises
    RuntimeError; run it in another process (`keras_ip.envs.traffic.run_in_processes`).
  - "traci": SUMO as a child process spoken to over a socket, under a unique label, so one
    process may run several at once (slower per step).

Lane readings come from SUMO subscriptions: after each simulation second SUMO hands back
the vehicle and halting counts of every subscribed lane in one call.
"""

from __future__ import annotations

import itertools
import os

import numpy as np

from keras_ip.envs.traffic.sumo_home import sumo_binary

BACKENDS = ("libsumo", "traci")
_LABELS = itertools.count()
_libsumo_user = None  # the Simulation that runs libsumo's one simulation in this process, if any


class Simulation:
    """A SUMO simulation of a `Scenario` with subscriptions on the given lanes.

    Init args:
      scenario: a `keras_ip.envs.traffic.scenarios.Scenario`.
      lanes: the M lane ids whose counts `step` returns, in this order.
      backend: "libsumo" or "traci" (see the module docstring).
      time_to_teleport: seconds a blocked vehicle waits before SUMO teleports it (SUMO's
        --time-to-teleport; -1 never).
    """

    def __init__(self, scenario, lanes, backend: str = "libsumo", time_to_teleport: float = 300):
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}. Received: backend={backend!r}")
        self.scenario = scenario
        self.lanes = list(lanes)
        self.backend = backend
        self.time_to_teleport = time_to_teleport
        self._sumo = None  # the libsumo module or a traci Connection, while running
        self._results = {}  # the last step's subscription results: lane -> {variable: value}
        from traci import constants

        self._vehicle_number, self._halting_number = (constants.LAST_STEP_VEHICLE_NUMBER,
                                                      constants.LAST_STEP_VEHICLE_HALTING_NUMBER)

    @property
    def running(self) -> bool:
        return self._sumo is not None

    def start(self, seed: int):
        """(Re)starts the scenario at its begin time with SUMO's random seed `seed`."""
        global _libsumo_user
        self.close()
        command = [sumo_binary("sumo"), "--net-file", self.scenario.net_file,
                   "--route-files", ",".join(self.scenario.route_files), "--begin", str(self.scenario.begin),
                   "--seed", str(int(seed)), "--time-to-teleport", str(self.time_to_teleport),
                   "--device.tripinfo.probability", "1", "--no-step-log", "--no-warnings",
                   "--duration-log.disable", "--message-log", os.devnull]
        if self.backend == "libsumo":
            if _libsumo_user is not None:
                raise RuntimeError("libsumo runs one simulation per process and another traffic environment is "
                                   "running one. Close it, run each environment in its own process "
                                   "(keras_ip.envs.traffic.run_in_processes), or pass backend='traci'.")
            import libsumo

            libsumo.start(command)
            _libsumo_user, self._sumo = self, libsumo
        else:
            import traci

            label = f"keras_ip_{os.getpid()}_{next(_LABELS)}"
            traci.start(command, label=label)
            self._sumo = traci.getConnection(label)
        for lane in self.lanes:
            self._sumo.lane.subscribe(lane, [self._vehicle_number, self._halting_number])

    def step(self) -> np.ndarray:
        """Advances one second. Returns the halting vehicles (speed < 0.1 m/s) per lane, float64 [M]."""
        self._sumo.simulationStep()
        self._results = self._sumo.lane.getAllSubscriptionResults()  # one call for all M lanes
        return self._read(self._halting_number)

    def vehicles(self) -> np.ndarray:
        """Vehicles on each lane after the last step, float64 [M]."""
        return self._read(self._vehicle_number)

    def _read(self, variable: int) -> np.ndarray:
        results = self._results
        return np.fromiter((results[lane][variable] for lane in self.lanes), np.float64, len(self.lanes))

    def set_state(self, tls_id: str, state: str):
        """Shows `state` (one character per link) at a traffic light until the next call."""
        self._sumo.trafficlight.setRedYellowGreenState(tls_id, state)

    @property
    def time(self) -> float:
        """The SUMO clock, seconds."""
        return float(self._sumo.simulation.getTime())

    def trip_statistics(self) -> dict:
        """Means over the vehicles that have arrived so far.

        Returns:
          {"arrived": count, "trip_time": mean travel time (s, arrival - departure),
           "delay": mean time loss (s): travel time minus the time the trip would take
           at the vehicles' desired speed}. Means are 0 before the first arrival.
        """
        def value(name):
            return float(self._sumo.simulation.getParameter("", f"device.tripinfo.{name}") or 0.0)

        arrived = value("count")
        return {"arrived": arrived, "trip_time": value("duration") if arrived else 0.0,
                "delay": value("timeLoss") if arrived else 0.0}

    def end_episode(self):
        """Ends the episode's simulation (frees libsumo for another environment; `start` begins anew)."""
        self.close()

    def close(self):
        """Ends the simulation, if one runs (safe to call twice)."""
        global _libsumo_user
        if self._sumo is None:
            return
        self._sumo.close()
        self._results = {}
        if _libsumo_user is self:
            _libsumo_user = None
        self._sumo = None
