"""Synthetic n x n signalised grids in CityFlow's JSON format: the paper's 7x7, 10x10 and 35x35 grids.

The road network is a port of CityFlow's own generator, `tools/generator/generate_json_from_grid.py`
and `tools/generator/generate_grid_scenario.py` of https://github.com/cityflow-project/CityFlow
(Apache License 2.0; a copy is in ../shared/vendor/cityflow), which pip-installed CityFlow does not
ship. Upstream's defaults are kept but for the intersection width, 15 m as in the Hangzhou 4x4
dataset (roadnet_4_4.json, made by that generator), whose shape the output has:

- Signals `intersection_{col}_{row}`, col and row in 1..n, at ((col - 1) * length, (row - 1) * length),
  15 m wide, and virtual boundary intersections at col or row 0 and n + 1 (no corners).
- Road `road_{col}_{row}_{k}` leaves `intersection_{col}_{row}` towards direction k: 0 east (+x),
  1 north (+y), 2 west (-x), 3 south (-y). Its lanes are 4 m wide: lane 0 turns left, lanes
  1 .. lanes - 2 go straight, the last turns right.
- Each signal links each incoming road to each outgoing road but the U-turn (12 road links); each
  lane link joins a lane of the movement to every lane of the outgoing road along a Hermite
  curve of 11 points (upstream's `findPath`; rounded to the millimetre here).
- Phases: upstream's default plan, which is also the Hangzhou, Jinan and New York datasets',
  so a policy sees the same phases on generated grids as on the real ones. Phase 0 (5 s) lets
  only the right turns go: the yellow phase (`network.read_roadnet` finds it as the phase
  every other phase contains). Phases 1-8 (30 s) are the greens, right turns green in each:
  1 east-west straight, 2 north-south straight, 3 east-west left, 4 north-south left, then all
  movements from the 5 west, 6 east, 7 south, 8 north.

The flow (`grid_flow`), seeded: vehicles enter at each of the 4 n boundary roads as a Poisson
process of `flow` vehicles per hour per road, in whole seconds from 0 to `duration`, and leave by
a boundary road drawn uniformly among the 4 n except the one straight back (a U-turn). Each takes
a shortest route: straight on from where it enters, one turn onto the destination's row or
column, on to it (or the other way round, column or row first, with probability 1/2), and out;
at most three turns. The vehicles are the Hangzhou dataset's (5 m, up to 11.111 m/s, headway 2 s),
one flow each (startTime = endTime), as there.

The same arguments give byte-identical roadnet.json and flow.json: numpy's Generator seeded with
`seed`, keys in a fixed order, one JSON object per line.
"""

from __future__ import annotations

import json
import math
import numbers
import os
import pathlib
import tempfile

import numpy as np

from keras_ip._checks import check_int
from keras_ip.envs.traffic.cityflow.scenario import CityFlowScenario

__all__ = ["grid_flow", "grid_roadnet", "grid_scenario"]

_WIDTH = 15.0  # intersection width, m (Hangzhou's; upstream's default is 30)
_LANE_WIDTH = 4.0
_CURVE_POINTS = 11  # points of a lane link (upstream's midPoints = 10)
_VEHICLE = {"length": 5.0, "width": 2.0, "maxPosAcc": 2.0, "maxNegAcc": 4.5, "usualPosAcc": 2.0, "usualNegAcc": 4.5,
           "minGap": 2.5, "maxSpeed": 11.111, "headwayTime": 2}  # the Hangzhou flow files' vehicle
_STEP = ((1, 0), (0, 1), (-1, 0), (0, -1))  # direction k -> (d col, d row)
_GREENS = (  # (incoming road directions, movements) of phases 1-8, right turns aside
    ((0, 2), ("go_straight",)), ((1, 3), ("go_straight",)), ((0, 2), ("turn_left",)), ((1, 3), ("turn_left",)),
    ((0,), ("go_straight", "turn_left")), ((2,), ("go_straight", "turn_left")),
    ((1,), ("go_straight", "turn_left")), ((3,), ("go_straight", "turn_left")))


def grid_roadnet(n: int, length: float = 300.0, lanes: int = 3, max_speed: float = 11.111) -> dict:
    """The roadnet JSON object of an n x n grid of signals (see the module docstring).

    Example:
      >>> roadnet = grid_roadnet(2)
      >>> sum(not i["virtual"] for i in roadnet["intersections"]), len(roadnet["roads"])
      (4, 24)

    Args:
      n: signals per side, >= 1 (n * n signals, 4 n virtual boundary intersections).
      length: distance between neighbouring intersections, boundary roads included, metres (> 30).
      lanes: lanes per road, >= 3: one turning left, lanes - 2 straight, one turning right.
      max_speed: the lanes' speed limit, m/s.

    Returns:
      {"intersections": [...], "roads": [...]}, the intersections by column then row.
    """
    _check_roadnet_args(n, length, lanes, max_speed)
    movements = _movements(lanes)
    curves = _curves(movements)  # [L, _CURVE_POINTS, 2] about the intersection's centre
    nodes = [(c, r) for c in range(n + 2) for r in range(n + 2) if not (c in (0, n + 1) and r in (0, n + 1))]
    roads = [_road(c, r, k, length, lanes, max_speed) for c, r in nodes for k in range(4) if _joins(c, r, k, n)]
    intersections = [_signal(c, r, n, length, movements, curves) if _is_signal(c, r, n) else _virtual(c, r, n, length)
                     for c, r in nodes]
    return {"intersections": intersections, "roads": roads}


def grid_flow(roadnet: dict, seed: int, flow: float = 300.0, duration: float = 3600.0) -> list:
    """A seeded random flow of vehicles through a `grid_roadnet` (see the module docstring).

    Example:
      >>> vehicles = grid_flow(grid_roadnet(2), seed=0, flow=360.0, duration=60.0)
      >>> vehicles[0]["route"][0].startswith("road_"), 0 <= vehicles[-1]["startTime"] < 60
      (True, True)

    Args:
      roadnet: a `grid_roadnet(n, ...)`.
      seed: seed of numpy's random Generator, >= 0.
      flow: vehicles per hour entering by each of the 4 n boundary roads (the mean of a Poisson
        process); the whole grid takes 4 n flow vehicles per hour.
      duration: vehicles enter during [0, duration) seconds.

    Returns:
      The flow JSON list: one {"vehicle", "route", "interval", "startTime", "endTime"} per
      vehicle, by start time.
    """
    n = _grid_size(roadnet)
    _check_flow_args(seed, flow, duration)
    rng = np.random.default_rng(seed)
    count = rng.poisson(4 * n * flow * duration / 3600.0)
    start = np.floor(rng.uniform(0.0, duration, count)).astype(np.int64)  # [V] seconds
    origin = rng.integers(0, 4 * n, count)  # [V] side * n + position - 1; sides 0 west, 1 south, 2 east, 3 north
    destination = rng.integers(0, 4 * n - 1, count)  # [V] the same, skipping the U-turn (= origin)
    destination += destination >= origin
    row_first = rng.integers(0, 2, count).astype(bool)  # [V] True: along the row (east-west) first
    order = np.argsort(start, kind="stable")
    lines = _road_lines(n)
    return [{"vehicle": dict(_VEHICLE), "route": _route(lines, n, o, d, f), "interval": 1.0, "startTime": t,
             "endTime": t}
            for o, d, f, t in zip(origin[order].tolist(), destination[order].tolist(), row_first[order].tolist(),
                                  start[order].tolist())]


def grid_scenario(n: int, seed: int = 0, directory=None, length: float = 300.0, lanes: int = 3,
                  max_speed: float = 11.111, flow: float = 300.0, duration: float = 3600.0) -> CityFlowScenario:
    """Writes a grid's roadnet.json and flow.json and returns the `CityFlowScenario` of them.

    Example:
      >>> import pathlib, tempfile
      >>> scenario = grid_scenario(2, seed=0, directory=tempfile.mkdtemp(), duration=60.0)
      >>> scenario.name, scenario.end, pathlib.Path(scenario.flow_file).name
      ('grid2_seed0', 60.0, 'flow.json')

    Args:
      n: signals per side (`grid_roadnet`).
      seed: the flow's seed (`grid_flow`).
      directory: where the files are written (replacing any there); default a cache folder,
        $KERAS_IP_CACHE/cityflow/grid{n}_seed{seed}_... (KERAS_IP_CACHE defaults to
        ~/.cache/keras_ip), whose files are reused.
      length: road length, metres (`grid_roadnet`).
      lanes: lanes per road (`grid_roadnet`).
      max_speed: the lanes' speed limit, m/s (`grid_roadnet`).
      flow: vehicles per hour entering on each boundary road (`grid_flow`).
      duration: seconds of vehicle departures; the scenario runs from 0 to duration.
    """
    _check_roadnet_args(n, length, lanes, max_speed)
    _check_flow_args(seed, flow, duration)
    if directory is None:
        cache = pathlib.Path(os.environ.get("KERAS_IP_CACHE", pathlib.Path.home() / ".cache" / "keras_ip"))
        directory = cache / "cityflow" / (f"grid{n}_seed{seed}_len{float(length)!r}_lanes{lanes}_speed"
                                          f"{float(max_speed)!r}_flow{float(flow)!r}_dur{float(duration)!r}")
        reuse = (directory / "flow.json").is_file()  # written last
    else:
        directory, reuse = pathlib.Path(directory), False
    roadnet_file, flow_file = directory / "roadnet.json", directory / "flow.json"
    if not reuse:
        roadnet = grid_roadnet(n, length, lanes, max_speed)
        _write_lines(roadnet_file, roadnet)
        _write_lines(flow_file, grid_flow(roadnet, seed, flow, duration))
    return CityFlowScenario(name=f"grid{n}_seed{seed}", roadnet_file=str(roadnet_file), flow_file=str(flow_file),
                            begin=0.0, end=float(duration))


def _check_roadnet_args(n, length, lanes, max_speed):
    check_int("n", n)
    check_int("lanes", lanes, minimum=3)
    _check_number("length", length, above=2 * _WIDTH)
    _check_number("max_speed", max_speed)


def _check_flow_args(seed, flow, duration):
    check_int("seed", seed, minimum=0)
    _check_number("flow", flow)
    _check_number("duration", duration)


def _check_number(name: str, value, above: float = 0.0):
    if not isinstance(value, numbers.Real) or isinstance(value, (bool, np.bool_)) or not above < value < math.inf:
        raise ValueError(f"{name} must be a number > {above:g}. Received: {name}={value!r}")


def _grid_size(roadnet) -> int:
    """n of a `grid_roadnet(n)`; ValueError for anything else."""
    if not isinstance(roadnet, dict):
        raise ValueError(f"roadnet must be a grid_roadnet(n, ...) dict. Received: roadnet={roadnet!r}")
    signals = {i.get("id") for i in roadnet.get("intersections", []) if not i.get("virtual")}
    n = math.isqrt(len(signals))
    if n < 1 or signals != {f"intersection_{c}_{r}" for c in range(1, n + 1) for r in range(1, n + 1)}:
        raise ValueError(f"roadnet must be a grid_roadnet(n, ...). Received: roadnet with {len(signals)} signalised "
                         f"intersections, not intersection_<col>_<row> for col, row in 1..n")
    return n


def _is_signal(c: int, r: int, n: int) -> bool:
    return 0 < c <= n and 0 < r <= n


def _joins(c: int, r: int, k: int, n: int) -> bool:
    """Whether a road leaves (c, r) towards k: to a node of the grid, one of the two a signal."""
    to_c, to_r = c + _STEP[k][0], r + _STEP[k][1]
    return 0 <= to_c <= n + 1 and 0 <= to_r <= n + 1 and (_is_signal(c, r, n) or _is_signal(to_c, to_r, n))


def _point(c: int, r: int, length: float) -> dict:
    return {"x": (c - 1) * float(length), "y": (r - 1) * float(length)}


def _road(c: int, r: int, k: int, length: float, lanes: int, max_speed: float) -> dict:
    to_c, to_r = c + _STEP[k][0], r + _STEP[k][1]
    return {"id": f"road_{c}_{r}_{k}", "points": [_point(c, r, length), _point(to_c, to_r, length)],
            "lanes": [{"width": _LANE_WIDTH, "maxSpeed": float(max_speed)} for _ in range(lanes)],
            "startIntersection": f"intersection_{c}_{r}", "endIntersection": f"intersection_{to_c}_{to_r}"}


def _road_ids(c: int, r: int, n: int) -> list:
    """The roads of (c, r): in (by direction), then out, as upstream lists them."""
    incoming = [f"road_{c - dc}_{r - dr}_{k}" for k, (dc, dr) in enumerate(_STEP) if _joins(c - dc, r - dr, k, n)]
    return incoming + [f"road_{c}_{r}_{k}" for k in range(4) if _joins(c, r, k, n)]


def _movements(lanes: int) -> list:
    """(incoming direction, outgoing direction, type, [(in lane, out lane)]) of a signal's road links, in order."""
    movements = []
    for k_in in range(4):
        for k_out in range(4):
            if k_out == (k_in + 2) % 4:
                continue  # no U-turn
            kind, in_lanes = {k_in: ("go_straight", range(1, lanes - 1)), (k_in + 1) % 4: ("turn_left", [0]),
                              (k_in + 3) % 4: ("turn_right", [lanes - 1])}[k_out]
            movements.append((k_in, k_out, kind, [(a, b) for a in in_lanes for b in range(lanes)]))
    return movements


def _curves(movements: list) -> np.ndarray:
    """float64 [L, _CURVE_POINTS, 2]: every lane link's Hermite curve about the centre (upstream's findPath)."""
    k_in, k_out, a, b = np.array([(m[0], m[1], a, b) for m in movements for a, b in m[3]]).T  # [L] each
    step = np.array(_STEP, np.float64)
    u_in, u_out = step[k_in], step[k_out]  # [L, 2] unit vectors of the roads
    right_in, right_out = u_in[:, ::-1] * [1.0, -1.0], u_out[:, ::-1] * [1.0, -1.0]  # [L, 2] to their right
    p_in = -u_in * _WIDTH + right_in * (_LANE_WIDTH * (a + 0.5))[:, None]  # [L, 2] where the lane meets the junction
    p_out = u_out * _WIDTH + right_out * (_LANE_WIDTH * (b + 0.5))[:, None]  # [L, 2] where the lane leaves it
    t = (np.arange(_CURVE_POINTS) / (_CURVE_POINTS - 1))[None, :, None]  # [1, P, 1]
    return ((2 * t**3 - 3 * t**2 + 1) * p_in[:, None] + (t**3 - 2 * t**2 + t) * _WIDTH * u_in[:, None]
            + (3 * t**2 - 2 * t**3) * p_out[:, None] + (t**3 - t**2) * _WIDTH * u_out[:, None])  # [L, P, 2]


def _traffic_light(road_links: int, available: list) -> dict:
    """Upstream's traffic light: phase 0 (5 s, right turns only) and the green phases (30 s)."""
    return {"roadLinkIndices": list(range(road_links)), "lightphases": [
        {"time": 5 if p == 0 else 30, "availableRoadLinks": links} for p, links in enumerate(available)]}


def _signal(c: int, r: int, n: int, length: float, movements: list, curves: np.ndarray) -> dict:
    centre = _point(c, r, length)
    xy = (np.round(curves + [centre["x"], centre["y"]], 3) + 0.0).tolist()  # + 0.0 turns -0.0 into 0.0
    road_links, lane_link = [], 0
    for k_in, k_out, kind, lane_pairs in movements:
        lane_links = []
        for a, b in lane_pairs:
            lane_links.append({"startLaneIndex": a, "endLaneIndex": b,
                               "points": [{"x": x, "y": y} for x, y in xy[lane_link]]})
            lane_link += 1
        road_links.append({"type": kind, "startRoad": f"road_{c - _STEP[k_in][0]}_{r - _STEP[k_in][1]}_{k_in}",
                           "endRoad": f"road_{c}_{r}_{k_out}", "direction": k_in, "laneLinks": lane_links})
    rights = [i for i, m in enumerate(movements) if m[2] == "turn_right"]
    greens = [sorted(rights + [i for i, m in enumerate(movements) if m[0] in directions and m[2] in kinds])
              for directions, kinds in _GREENS]
    return {"id": f"intersection_{c}_{r}", "point": centre, "width": _WIDTH, "roads": _road_ids(c, r, n),
            "roadLinks": road_links, "trafficLight": _traffic_light(len(movements), [rights] + greens),
            "virtual": False}


def _virtual(c: int, r: int, n: int, length: float) -> dict:
    return {"id": f"intersection_{c}_{r}", "point": _point(c, r, length), "width": 0.0, "roads": _road_ids(c, r, n),
            "roadLinks": [], "trafficLight": _traffic_light(0, [[]] * (1 + len(_GREENS))), "virtual": True}


def _route(lines: tuple, n: int, origin: int, destination: int, row_first: bool) -> list:
    """The road ids of a shortest route from boundary road `origin` to boundary road `destination`.

    The vehicle goes along its row first (`row_first`), then its column, or the other way round.

    Args:
      lines: `_road_lines(n)`.
      origin, destination: side * n + position - 1 (sides as in `_boundary`).
    """
    rows, columns = lines
    side_in, side_out = origin // n, destination // n
    c, r = _boundary(n, side_in, origin % n + 1)
    entry = rows[side_in][r][c]
    c, r = c + _STEP[side_in][0], r + _STEP[side_in][1]  # the first signal
    to_c, to_r = _boundary(n, side_out, destination % n + 1)
    to_c, to_r = to_c + _STEP[side_out][0], to_r + _STEP[side_out][1]  # the last signal
    if row_first:
        middle = _leg(rows[0][r], rows[2][r], c, to_c) + _leg(columns[1][to_c], columns[3][to_c], r, to_r)
    else:
        middle = _leg(columns[1][c], columns[3][c], r, to_r) + _leg(rows[0][to_r], rows[2][to_r], c, to_c)
    return [entry] + middle + [rows[(side_out + 2) % 4][to_r][to_c]]


def _road_lines(n: int) -> tuple:
    """(rows, columns): rows[k][r][c] and columns[k][c][r] are both f"road_{c}_{r}_{k}", c and r in 0..n+1."""
    rows = [[[f"road_{c}_{r}_{k}" for c in range(n + 2)] for r in range(n + 2)] for k in range(4)]
    columns = [[[f"road_{c}_{r}_{k}" for r in range(n + 2)] for c in range(n + 2)] for k in range(4)]
    return rows, columns


def _leg(forward: list, backward: list, start: int, stop: int) -> list:
    """The roads from coordinate `start` to `stop` along one row or column: forward[i] leaves i towards
    increasing coordinates, backward[i] towards decreasing ones."""
    return forward[start:stop] if stop >= start else backward[stop + 1:start + 1][::-1]


def _boundary(n: int, side: int, position: int) -> tuple:
    """(col, row) of the virtual intersection at `position` (1..n) on `side` (0 west, 1 south, 2 east, 3 north)."""
    return ((0, position), (position, 0), (n + 1, position), (position, n + 1))[side]


def _write_lines(path: pathlib.Path, value):
    """Writes `value` (a list, or a dict of lists) as JSON with one list item per line, atomically."""
    if isinstance(value, dict):
        text = "{\n" + ",\n".join(f"{json.dumps(key)}: {_lines(items)}" for key, items in value.items()) + "\n}\n"
    else:
        text = _lines(value) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, prefix=f".{path.name}.",
                                     delete=False) as file:
        file.write(text)
    os.chmod(file.name, 0o644)  # NamedTemporaryFile makes it private; the cache is shared like any other
    os.replace(file.name, path)


def _lines(items: list) -> str:
    return "[\n" + ",\n".join(json.dumps(item) for item in items) + "\n]"
