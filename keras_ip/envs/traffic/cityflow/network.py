"""The static side of a CityFlow road network, read from its roadnet.json into a `SignalNetwork`.

The same arrays as SUMO's reader (`keras_ip.envs.traffic.network`), so the environment, its
observations, rewards and the classical controllers work unchanged on either simulator:

- Agent i is the i-th signalised intersection (not virtual, with road links) in row-major
  order of its position: sorted by y, then x, as on SUMO.
- Lanes are CityFlow's "<road id>_<lane index>"; a lane's capacity is its road's length
  (centre to centre of the intersections, metres) / 7.5 m.
- A link is one lane link (incoming lane -> outgoing lane) of one of the signal's road links,
  in road-link order. A phase's state string has one character per link: "G" where the phase
  lists the link's road link in its `availableRoadLinks`, else "r".
- CityFlow datasets (the CoLight family, and this project's generated grids) give every
  signal a short phase whose available road links are a subset of every other phase's: the
  movements that are never stopped (right turns), shown between two greens. That is the
  signal's yellow phase; the others are its green phases, in roadnet order.
- Two signals are neighbours when a road joins them (the road graph of `default_graph()`).
"""

from __future__ import annotations

import dataclasses
import json
import pathlib

import numpy as np

from keras_ip.envs.traffic.network import SignalNetwork, signal_network
from keras_ip.graphs import from_edges


@dataclasses.dataclass(frozen=True, eq=False)
class CityFlowNetwork:
    """A roadnet's `SignalNetwork` and what CityFlow needs to show a phase.

    Attributes:
      signals: the `SignalNetwork` (agent order, lanes, links, green phases, road graph).
      phase_ids: per signal, {green state string: CityFlow phase index}.
      yellow_phase: int64 [N], each signal's yellow (never-stopped movements only) phase index,
        -1 where the signal has none.
      road_lengths: {road id: length in metres}.
      lane_speeds: {road id: its lanes' lowest maxSpeed, m/s}.
    """

    signals: SignalNetwork
    phase_ids: tuple
    yellow_phase: np.ndarray
    road_lengths: dict
    lane_speeds: dict


def read_roadnet(roadnet_file, green_phases=None) -> CityFlowNetwork:
    """Reads the signals, their lanes, links, phases and road graph from a CityFlow roadnet.json.

    Args:
      roadnet_file: path of the roadnet JSON.
      green_phases: CityFlow phase indices the agents choose among (the same for every signal),
        e.g. (1, 2, 3, 4) for the four two-movement phases of the CoLight datasets that most
        papers use; None: every phase but the yellow.
    """
    roadnet = json.loads(pathlib.Path(roadnet_file).read_text())
    roads = {road["id"]: road for road in roadnet["roads"]}
    intersections = [i for i in roadnet["intersections"]
                     if not i.get("virtual") and i.get("roadLinks") and i.get("trafficLight", {}).get("lightphases")]
    if not intersections:
        raise ValueError(f"The roadnet has no signalised intersection to control. Received: roadnet_file="
                         f"{str(roadnet_file)!r}")
    positions = np.array([[i["point"]["x"], i["point"]["y"]] for i in intersections], np.float64)
    order = np.lexsort((positions[:, 0], positions[:, 1]))  # by y, then x
    intersections, positions = [intersections[i] for i in order], positions[order]
    road_lengths = {road_id: _length(road["points"]) for road_id, road in roads.items()}

    lane_index, lengths, links, greens, phase_ids, yellow = {}, [], [], [], [], []

    def index_of(road_id: str, lane: int) -> int:
        lane_id = f"{road_id}_{lane}"
        if lane_id not in lane_index:
            lane_index[lane_id] = len(lengths)
            lengths.append(road_lengths[road_id])
        return lane_index[lane_id]

    for intersection in intersections:
        link, link_road = [], []  # per lane link: (in, out) lane indices; its road link's index
        for r, road_link in enumerate(intersection["roadLinks"]):
            for lane_link in road_link["laneLinks"]:
                link.append((index_of(road_link["startRoad"], lane_link["startLaneIndex"]),
                             index_of(road_link["endRoad"], lane_link["endLaneIndex"])))
                link_road.append(r)
        links.append(np.array(link, np.int64).reshape(-1, 2))
        green, ids, yellow_id = _phases(intersection, np.array(link_road), green_phases)
        greens.append(green)
        phase_ids.append(ids)
        yellow.append(yellow_id)

    tls_ids = [i["id"] for i in intersections]
    agent = {tls: n for n, tls in enumerate(tls_ids)}
    edges = sorted({pair for road in roads.values()
                    if road["startIntersection"] in agent and road["endIntersection"] in agent
                    for pair in ((agent[road["startIntersection"]], agent[road["endIntersection"]]),
                                 (agent[road["endIntersection"]], agent[road["startIntersection"]]))})
    signals = signal_network(tls_ids, positions, list(lane_index), np.array(lengths), links, greens,
                             from_edges(len(tls_ids), edges))
    lane_speeds = {road_id: min(lane["maxSpeed"] for lane in road["lanes"]) for road_id, road in roads.items()}
    return CityFlowNetwork(signals=signals, phase_ids=tuple(phase_ids), yellow_phase=np.array(yellow, np.int64),
                           road_lengths=road_lengths, lane_speeds=lane_speeds)


def _phases(intersection: dict, link_road: np.ndarray, green_phases=None) -> tuple:
    """(green state strings, {state: CityFlow phase index}, yellow phase index or -1) of one signal.

    Args:
      intersection: the roadnet's intersection object.
      link_road: int [K], the road link of each lane link.
      green_phases: the phase indices to keep as greens (None: all but the yellow).
    """
    available = [frozenset(phase["availableRoadLinks"]) for phase in intersection["trafficLight"]["lightphases"]]
    always = frozenset.intersection(*available)
    yellow = next((p for p, links in enumerate(available) if links == always and len(available) > 1), -1)
    if green_phases is not None and not set(green_phases) <= set(range(len(available))) - {yellow}:
        raise ValueError(f"green_phases must be phase indices of {intersection['id']} other than its yellow phase "
                         f"{yellow}, in [0, {len(available)}). Received: green_phases={green_phases!r}")
    greens, ids = [], {}
    for p, links in enumerate(available):
        state = "".join("G" if r in links else "r" for r in link_road.tolist())
        if p == yellow or state in ids or "G" not in state or (green_phases is not None and p not in green_phases):
            continue
        greens.append(state)
        ids[state] = p
    return tuple(greens), ids, yellow


def _length(points: list) -> float:
    """Length of a polyline of {"x", "y"} points, metres."""
    xy = np.array([[p["x"], p["y"]] for p in points], np.float64)  # [P, 2]
    return float(np.linalg.norm(np.diff(xy, axis=0), axis=1).sum())
