"""What a CityFlow engine loads: a road network, a vehicle flow and the simulated time window."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class CityFlowScenario:
    """A CityFlow road network (roadnet.json) and vehicle flow (flow.json).

    Attributes:
      name: e.g. "hangzhou_4x4", "hangzhou_4x4_5734" or "grid7_seed0".
      roadnet_file: path of the CityFlow roadnet JSON (intersections and roads).
      flow_file: path of the CityFlow flow JSON (a list of vehicles: parameters, route, start
        time, end time, interval).
      begin, end: simulated time window in seconds (CityFlow's clock starts at 0); an episode
        lasts (end - begin) seconds unless max_cycles says otherwise.
    """

    name: str
    roadnet_file: str
    flow_file: str
    begin: float = 0.0
    end: float = 3600.0
