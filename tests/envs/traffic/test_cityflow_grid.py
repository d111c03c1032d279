"""Generated CityFlow grids: Hangzhou's shape, valid roads and routes, byte-identical per seed, and
a CityFlow engine that runs them."""

import json
import os
import pathlib

import pytest

from keras_ip.envs.traffic.cityflow import read_roadnet
from keras_ip.envs.traffic.cityflow.grid import grid_flow, grid_roadnet, grid_scenario

cityflow = pytest.importorskip("cityflow", reason="CityFlow is not on PyPI: build it from ../shared/vendor/cityflow, "
                                                  "see docs/traffic.md")
HANGZHOU = pathlib.Path(os.environ.get("KERAS_IP_CITYFLOW_DATA", pathlib.Path(__file__).resolve().parents[4] / "shared"
                                       / "data" / "cityflow")) / "Hangzhou" / "4_4" / "roadnet_4_4.json"


def _files(scenario) -> tuple:
    return pathlib.Path(scenario.roadnet_file).read_bytes(), pathlib.Path(scenario.flow_file).read_bytes()


def _movements(roadnet: dict) -> set:
    """{(start road, end road)} of every road link of every signal."""
    return {(link["startRoad"], link["endRoad"]) for i in roadnet["intersections"] for link in i["roadLinks"]}


def test_same_seed_same_bytes_other_seed_other_flow(tmp_path):
    first = grid_scenario(3, seed=5, directory=tmp_path / "a", duration=600.0)
    again = grid_scenario(3, seed=5, directory=tmp_path / "b", duration=600.0)
    other = grid_scenario(3, seed=6, directory=tmp_path / "c", duration=600.0)
    assert _files(first) == _files(again)
    assert _files(other)[0] == _files(first)[0] and _files(other)[1] != _files(first)[1]
    assert json.loads(_files(first)[0]) == grid_roadnet(3)
    assert json.loads(_files(first)[1]) == grid_flow(grid_roadnet(3), seed=5, duration=600.0)
    assert (first.name, first.begin, first.end) == ("grid3_seed5", 0.0, 600.0)


def test_default_folder_is_the_cache_and_is_reused(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_IP_CACHE", str(tmp_path))
    scenario = grid_scenario(2, seed=1, duration=60.0)
    folder = pathlib.Path(scenario.flow_file).parent
    assert folder.parent == tmp_path / "cityflow" and folder.name.startswith("grid2_seed1_")
    written = os.stat(scenario.flow_file).st_mtime_ns
    assert grid_scenario(2, seed=1, duration=60.0) == scenario
    assert os.stat(scenario.flow_file).st_mtime_ns == written


@pytest.mark.parametrize("n", [1, 4])
def test_n_by_n_signals_in_a_ring_of_virtual_intersections(n):
    roadnet = grid_roadnet(n)
    signals = [i for i in roadnet["intersections"] if not i["virtual"]]
    virtual = [i for i in roadnet["intersections"] if i["virtual"]]
    assert [i["id"] for i in signals] == [f"intersection_{c}_{r}" for c in range(1, n + 1) for r in range(1, n + 1)]
    assert len(virtual) == 4 * n and all(not i["roadLinks"] for i in virtual)
    assert len(roadnet["roads"]) == 4 * n * (n + 1)
    for signal in signals:
        phases = [set(p["availableRoadLinks"]) for p in signal["trafficLight"]["lightphases"]]
        rights = {r for r, link in enumerate(signal["roadLinks"]) if link["type"] == "turn_right"}
        assert len(signal["roadLinks"]) == 12 and len(phases) == 9
        assert phases[0] == rights and all(rights < phase for phase in phases[1:])


def test_every_road_link_joins_existing_roads_at_its_intersection():
    roadnet = grid_roadnet(3, length=120.0, lanes=4, max_speed=15.0)
    roads = {road["id"]: road for road in roadnet["roads"]}
    intersections = {i["id"] for i in roadnet["intersections"]}
    assert all({road["startIntersection"], road["endIntersection"]} <= intersections for road in roads.values())
    for intersection in roadnet["intersections"]:
        assert set(intersection["roads"]) <= set(roads)
        for link in intersection["roadLinks"]:
            assert roads[link["startRoad"]]["endIntersection"] == intersection["id"]
            assert roads[link["endRoad"]]["startIntersection"] == intersection["id"]
            assert all(0 <= lane[end] < 4 for lane in link["laneLinks"] for end in ("startLaneIndex", "endLaneIndex"))
            assert all(len(lane["points"]) == 11 for lane in link["laneLinks"])


def test_every_route_is_connected_from_the_boundary_to_the_boundary():
    roadnet = grid_roadnet(4)
    roads = {road["id"]: road for road in roadnet["roads"]}
    virtual = {i["id"] for i in roadnet["intersections"] if i["virtual"]}
    movements = _movements(roadnet)
    vehicles = grid_flow(roadnet, seed=3, flow=600.0, duration=600.0)
    assert 1300 < len(vehicles) < 1900  # 16 roads x 600 / h x 600 s = 1600 expected
    starts = [vehicle["startTime"] for vehicle in vehicles]
    assert starts == sorted(starts) and 0 <= starts[0] and starts[-1] < 600
    for vehicle in vehicles:
        route = vehicle["route"]
        assert roads[route[0]]["startIntersection"] in virtual and roads[route[-1]]["endIntersection"] in virtual
        assert all(roads[a]["endIntersection"] == roads[b]["startIntersection"] and (a, b) in movements
                   for a, b in zip(route, route[1:])), route
    assert len({(v["route"][0], v["route"][-1]) for v in vehicles}) == 16 * 15  # every pair but the U-turns


@pytest.mark.skipif(not HANGZHOU.is_file(), reason=f"The Hangzhou dataset is not at {HANGZHOU}")
def test_same_layout_as_hangzhou_4x4():
    """Hangzhou's roadnet came from the same generator: same ids, road links, lane links and phases."""

    def layout(roadnet: dict) -> list:
        return [(i["id"], i["roads"], [(link["type"], link["startRoad"], link["endRoad"], link["direction"],
                                        [(lane["startLaneIndex"], lane["endLaneIndex"]) for lane in link["laneLinks"]])
                                       for link in i["roadLinks"]],
                 [(p["time"], sorted(p["availableRoadLinks"])) for p in i["trafficLight"]["lightphases"]])
                for i in roadnet["intersections"]]

    hangzhou = json.loads(HANGZHOU.read_text())
    generated = grid_roadnet(4)
    assert layout(generated) == layout(hangzhou)
    assert [road["id"] for road in generated["roads"]] == [road["id"] for road in hangzhou["roads"]]


def test_read_as_nine_signals_with_a_yellow_and_eight_greens(tmp_path):
    network = read_roadnet(grid_scenario(3, directory=tmp_path, duration=60.0).roadnet_file)
    assert network.signals.tls_ids == tuple(f"intersection_{c}_{r}" for r in range(1, 4) for c in range(1, 4))
    assert network.yellow_phase.tolist() == [0] * 9
    assert [sorted(ids.values()) for ids in network.phase_ids] == [list(range(1, 9))] * 9


def test_cityflow_engine_runs_a_3x3_grid(tmp_path):
    scenario = grid_scenario(3, seed=0, directory=tmp_path, duration=300.0)
    config = {"interval": 1.0, "seed": 0, "dir": f"{tmp_path}/", "roadnetFile": "roadnet.json",
              "flowFile": "flow.json", "rlTrafficLight": True, "laneChange": False, "saveReplay": False,
              "roadnetLogFile": "", "replayLogFile": ""}
    (tmp_path / "config.json").write_text(json.dumps(config))
    engine = cityflow.Engine(str(tmp_path / "config.json"), thread_num=1)
    signals = [f"intersection_{c}_{r}" for c in range(1, 4) for r in range(1, 4)]
    most, present, finished = 0, set(), 0
    for second in range(300):
        if second % 10 == 0:
            for signal in signals:
                engine.set_tl_phase(signal, 1 + second // 10 % 8)
        engine.next_step()
        vehicles = set(engine.get_vehicles(include_waiting=True))
        finished += len(present - vehicles)
        present, most = vehicles, max(most, engine.get_vehicle_count())
    assert most > 0 and finished > 0 and engine.get_average_travel_time() > 0
    assert scenario.end == 300.0


@pytest.mark.parametrize("make, received", [
    (lambda: grid_roadnet(0), "n=0"),
    (lambda: grid_roadnet(2.0), "n=2.0"),
    (lambda: grid_roadnet(3, lanes=2), "lanes=2"),
    (lambda: grid_roadnet(3, length=20.0), "length=20.0"),
    (lambda: grid_roadnet(3, max_speed=0), "max_speed=0"),
    (lambda: grid_roadnet(3, max_speed=True), "max_speed=True"),
    (lambda: grid_flow(grid_roadnet(2), seed=-1), "seed=-1"),
    (lambda: grid_flow(grid_roadnet(2), seed=0, flow=0.0), "flow=0.0"),
    (lambda: grid_flow(grid_roadnet(2), seed=0, duration=float("inf")), "duration=inf"),
    (lambda: grid_flow({"intersections": []}, seed=0), "roadnet with 0 signalised"),
    (lambda: grid_flow("roadnet.json", seed=0), "roadnet='roadnet.json'"),
    (lambda: grid_scenario(3, seed=1.5, directory="unused"), "seed=1.5"),
])
def test_bad_arguments_name_themselves(make, received):
    with pytest.raises(ValueError, match=f"Received: {received}"):
        make()
