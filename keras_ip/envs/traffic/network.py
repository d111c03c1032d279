"""The static side of a signalised road network, read from its .net.xml with sumolib.

Agent i is the i-th traffic light (SUMO "tlLogic") in row-major order of its position:
sorted by y, then x (bottom row first). On a generated n x n grid agent r * n + c sits
at row r, column c, so the road graph there is exactly `keras_ip.graphs.grid(n, n)`.

Everything per agent is padded to the largest agent into fixed-size numpy arrays, so
the environment and the controllers compute observations, rewards and pressures with
a few vectorised operations instead of loops over agents.
"""

from __future__ import annotations

import heapq
import dataclasses

import numpy as np

from keras_ip.envs.traffic.phases import GREEN, green_phase_states
from keras_ip.graphs import Graph, from_edges

MAX_ROAD_DISTANCE = 500.0  # metres; see road_graph
VEHICLE_SPACE = 7.5  # metres a queued vehicle takes: 5 m length + 2.5 m gap (SUMO defaults)


@dataclasses.dataclass(frozen=True, eq=False)
class SignalNetwork:
    """The signals of a network and the lanes they control, as padded arrays.

    Attributes (N signals, M lanes, L incoming lanes and K links at most per signal,
    P green phases at most per signal; index -1 pads):
      tls_ids: N SUMO traffic-light ids, in agent order.
      positions: float64 [N, 2], metres (mean of the junctions a signal controls).
      lanes: M lane ids: every lane entering or leaving a signal.
      lane_capacity: float64 [M], vehicles a lane holds bumper to bumper (length / 7.5 m).
      in_lanes: int64 [N, L], each signal's incoming lanes (indices into `lanes`).
      link_in, link_out: int64 [N, K], lane indices of each controlled link (link k of
        signal i is SUMO's link index k).
      green_states: per signal, its green phase state strings.
      num_phases: int64 [N], green phases per signal (>= 1).
      serves: bool [N, P, K], green phase p gives green to link k.
      graph: the road graph: signals i and j are neighbours when a road joins them
        (directly or through junctions without a traffic light).
    """

    tls_ids: tuple
    positions: np.ndarray
    lanes: tuple
    lane_capacity: np.ndarray
    in_lanes: np.ndarray
    link_in: np.ndarray
    link_out: np.ndarray
    green_states: tuple
    num_phases: np.ndarray
    serves: np.ndarray
    graph: Graph

    @property
    def num_agents(self) -> int:
        return len(self.tls_ids)

    @property
    def max_phases(self) -> int:
        return int(self.num_phases.max())

    @property
    def max_lanes(self) -> int:
        return int(self.in_lanes.shape[1])


def read_network(net_file: str) -> SignalNetwork:
    """Reads the signals, their lanes, links, green phases and road graph from a .net.xml."""
    import sumolib

    net = sumolib.net.readNet(str(net_file), withPrograms=True)
    signals = [tls for tls in net.getTrafficLights() if tls.getConnections() and tls.getPrograms()]
    if not signals:
        raise ValueError(f"The network has no traffic lights to control. Received: net_file={net_file!r}")
    junctions = [sorted({c[0].getEdge().getToNode().getID() for c in tls.getConnections()}) for tls in signals]
    positions = np.array([np.mean([net.getNode(j).getCoord()[:2] for j in js], axis=0) for js in junctions])
    order = np.lexsort((positions[:, 0], positions[:, 1]))  # by y, then x
    signals, junctions, positions = [signals[i] for i in order], [junctions[i] for i in order], positions[order]

    lane_index, lengths = {}, []

    def index_of(lane) -> int:
        if lane.getID() not in lane_index:
            lane_index[lane.getID()] = len(lengths)
            lengths.append(lane.getLength())
        return lane_index[lane.getID()]

    links, greens = [], []
    for tls in signals:
        connections = sorted(tls.getConnections(), key=lambda c: c[2])  # (in lane, out lane, link index)
        link = np.full((connections[-1][2] + 1, 2), -1)
        for lane_in, lane_out, k in connections:
            link[k] = index_of(lane_in), index_of(lane_out)
        links.append(link)
        program = tls.getPrograms()[sorted(tls.getPrograms())[0]]
        greens.append(tuple(green_phase_states([phase.state for phase in program.getPhases()])))
    return signal_network([tls.getID() for tls in signals], positions, list(lane_index), np.array(lengths), links,
                          greens, road_graph(net, junctions))


def signal_network(tls_ids, positions, lanes, lane_lengths, links, greens, graph: Graph) -> SignalNetwork:
    """Pads per-signal lanes, links and green phases into a `SignalNetwork` (both simulators' readers end here).

    Args:
      tls_ids: N signal ids, in agent order.
      positions: float [N, 2] metres.
      lanes: M lane ids.
      lane_lengths: float [M] metres.
      links: per signal, int [K_i, 2] (incoming, outgoing) lane indices of link k, -1 where
        the signal has no link k.
      greens: per signal, its green phase state strings (one character per link).
      graph: the road graph over the N signals.
    """
    if not all(greens):
        raise ValueError(f"Traffic light {tls_ids[[bool(g) for g in greens].index(False)]} has no green phase.")
    in_lanes = [list(dict.fromkeys(int(i) for i in link[:, 0] if i >= 0)) for link in links]
    num_links = max(len(link) for link in links)
    link_arrays = _pad(links, (len(links), num_links, 2))  # [N, K, (in, out)]
    serves = np.zeros((len(tls_ids), max(len(g) for g in greens), num_links), bool)
    for i, states in enumerate(greens):
        for p, state in enumerate(states):
            serves[i, p, :len(state)] = [c in GREEN for c in state]
    return SignalNetwork(
        tls_ids=tuple(tls_ids), positions=np.asarray(positions, np.float64), lanes=tuple(lanes),
        lane_capacity=np.asarray(lane_lengths, np.float64) / VEHICLE_SPACE,
        in_lanes=_pad(in_lanes, (len(in_lanes), max(map(len, in_lanes)))), link_in=link_arrays[..., 0],
        link_out=link_arrays[..., 1], green_states=tuple(tuple(g) for g in greens),
        num_phases=np.array([len(g) for g in greens]), serves=serves, graph=graph)


def road_graph(net, junctions: list, max_distance: float = MAX_ROAD_DISTANCE) -> Graph:
    """Signals joined by a road: directly, or through junctions without a traffic light.

    From each signal, roads are followed out (shortest first) through unsignalised
    junctions; the first signal a road reaches within `max_distance` metres is a
    neighbour, and the road stops there. The distance cap keeps real city networks, whose
    unsignalised junctions connect everything to everything, from turning into one clique.

    Args:
      net: a sumolib network.
      junctions: per agent, the ids of the junctions its traffic light controls.
      max_distance: longest road between two neighbouring signals, metres.
    Returns:
      the symmetric `Graph` over the agents.
    """
    owner = {junction: i for i, js in enumerate(junctions) for junction in js}
    links = set()
    for i, js in enumerate(junctions):
        heap, done = [(0.0, j) for j in js], set()
        while heap:
            distance, junction = heapq.heappop(heap)
            if junction in done:
                continue
            done.add(junction)
            j = owner.get(junction, -1)
            if j not in (-1, i):
                links.add((i, j))  # the road ends at the next signal
                continue
            for edge in net.getNode(junction).getOutgoing():
                further = distance + edge.getLength()
                if further <= max_distance and edge.getToNode().getID() not in done:
                    heapq.heappush(heap, (further, edge.getToNode().getID()))
    return from_edges(len(junctions), sorted(links))


def _pad(rows: list, shape: tuple) -> np.ndarray:
    """Stacks ragged rows (lists, or [k, c] arrays) into an int64 array of `shape`, padded with -1."""
    out = np.full(shape, -1, np.int64)
    for i, row in enumerate(rows):
        out[i, :len(row)] = row
    return out
