"""TrafficSignalEnv on CityFlow: the PettingZoo API, the roadnet read as on SUMO, phases shown,
metrics checked against the engine and by hand, the engine reused, and a learner on it."""

import functools
import json
import os
import pathlib

import numpy as np
import pytest
from pettingzoo.test import parallel_api_test, parallel_seed_test

from keras_ip import make_env
from keras_ip.envs.traffic.cityflow import CityFlowScenario, read_roadnet
from keras_ip.envs.traffic.controllers import FixedTimeController, GreedyController, MaxPressureController, run_episode
from keras_ip.graphs import grid

pytest.importorskip("cityflow", reason="CityFlow is not on PyPI: build it from its source as docs/traffic.md says")
SHARED = pathlib.Path(os.environ.get("KERAS_IP_CITYFLOW_DATA",
                                     pathlib.Path(__file__).resolve().parents[4] / "shared" / "data" / "cityflow"))
HANGZHOU = SHARED / "Hangzhou" / "4_4"
if not HANGZHOU.is_dir():
    pytest.skip(f"The CityFlow datasets are not at {SHARED} (set KERAS_IP_CITYFLOW_DATA)", allow_module_level=True)
SCENARIO = CityFlowScenario("hangzhou_4x4", str(HANGZHOU / "roadnet_4_4.json"),
                            str(HANGZHOU / "anon_4_4_hangzhou_real.json"))


@pytest.fixture
def env():
    environment = make_env("traffic", backend="cityflow", scenario=SCENARIO, max_cycles=12)
    yield environment
    environment.close()


def test_parallel_api_and_seed():
    kwargs = {"backend": "cityflow", "scenario": SCENARIO, "max_cycles": 6}
    parallel_api_test(make_env("traffic", **kwargs), num_cycles=6)
    parallel_seed_test(functools.partial(make_env, "traffic", **kwargs), num_cycles=6)


def test_agents_in_row_major_order_on_the_road_graph(env):
    """Hangzhou's 4 x 4 intersections are intersection_<column>_<row>, 800 m apart east-west and 600 m
    north-south: agent r * 4 + c."""
    assert env.tls_ids == tuple(f"intersection_{c}_{r}" for r in range(1, 5) for c in range(1, 5))
    assert env.default_graph() == grid(4, 4)
    assert np.array_equal(env.agent_positions()[5], [800.0, 600.0])
    assert env.observation_space("signal_0").shape == (8 + 1 + 2 * 12,)  # 8 greens, 4 roads x 3 lanes in


def test_phases_read_from_the_roadnet():
    """Phase 0 (right turns only, in every phase) is the yellow; phases 1-8 are the greens, in order."""
    network = read_roadnet(SCENARIO.roadnet_file)
    roadnet = json.loads(pathlib.Path(SCENARIO.roadnet_file).read_text())
    first = next(i for i in roadnet["intersections"] if i["id"] == network.signals.tls_ids[0])
    phases = first["trafficLight"]["lightphases"]
    assert network.yellow_phase[0] == 0 and list(network.phase_ids[0].values()) == list(range(1, 9))
    link_roads = [r for r, link in enumerate(first["roadLinks"]) for _ in link["laneLinks"]]
    for state, phase in network.phase_ids[0].items():
        assert state == "".join("G" if r in phases[phase]["availableRoadLinks"] else "r" for r in link_roads)
    lanes = network.signals.lanes
    k = 0  # link 0: the first lane link of road link 0
    start = first["roadLinks"][0]
    assert lanes[network.signals.link_in[0, k]] == f"{start['startRoad']}_{start['laneLinks'][0]['startLaneIndex']}"
    assert lanes[network.signals.link_out[0, k]] == f"{start['endRoad']}_{start['laneLinks'][0]['endLaneIndex']}"
    road = next(r for r in roadnet["roads"] if r["id"] == start["startRoad"])
    length = np.hypot(road["points"][1]["x"] - road["points"][0]["x"], road["points"][1]["y"] - road["points"][0]["y"])
    assert len(road["points"]) == 2 and length in (600, 800)
    assert network.signals.lane_capacity[network.signals.link_in[0, k]] == pytest.approx(length / 7.5)


def test_a_switch_shows_yellow_then_the_chosen_green(env, monkeypatch):
    env.reset(seed=0)
    shown = []
    engine = env.simulation._engine  # pylint: disable=protected-access
    monkeypatch.setattr(env.simulation, "_engine", _Spy(engine, shown))
    env.step({agent: 0 for agent in env.agents})  # min green not over yet: nothing switches
    assert shown == []
    env.step({agent: 0 for agent in env.agents})
    env.step({agent: 3 if agent == "signal_5" else 0 for agent in env.agents})
    assert shown == [("intersection_2_2", 0), ("intersection_2_2", 4)]  # yellow 2 s, then green 3 (phase 4)


def test_engine_reused_and_same_seed_same_episode(env):
    def episode():
        observations, _ = env.reset(seed=3)
        trace = [np.stack(list(observations.values()))]
        while env.agents:
            observations, rewards, _, _, infos = env.step({a: int(i % 8) for i, a in enumerate(env.agents)})
            trace += [np.stack(list(observations.values())), np.array(list(rewards.values()))]
        return trace, infos

    first, first_info = episode()
    engine = env.simulation._engine  # pylint: disable=protected-access
    again, again_info = episode()
    assert env.simulation._engine is engine  # pylint: disable=protected-access
    assert all(np.array_equal(a, b) for a, b in zip(first, again)) and first_info == again_info


def test_metrics_agree_with_the_engine_and_by_hand():
    env = make_env("traffic", backend="cityflow", scenario=SCENARIO, max_cycles=60, min_green=0)
    try:
        controller = MaxPressureController(env)
        env.reset(seed=0)
        while env.agents:
            _, _, _, _, infos = env.step(controller())
        metrics = infos["signal_0"]
        engine = env.simulation._engine  # pylint: disable=protected-access
        assert set(metrics) == {"arrived", "trip_time", "delay", "travel_time", "queue_length"}
        assert metrics["travel_time"] == pytest.approx(engine.get_average_travel_time())
        assert engine.get_current_time() == 1 + 60 * 5 and metrics["arrived"] > 0  # reset runs 1 s, as on SUMO
        assert 0 < metrics["delay"] < metrics["trip_time"]
    finally:
        env.close()


def test_trips_tracked_by_hand():
    """Vehicles enter when first held by the engine and arrive when it no longer holds them."""
    simulation = make_env("traffic", backend="cityflow", scenario=SCENARIO).simulation
    simulation._free_flow = np.array([10.0, 100.0])  # pylint: disable=protected-access
    simulation._present, simulation._arrived = {}, 0  # pylint: disable=protected-access
    simulation._trip_sum = simulation._delay_sum = 0.0  # pylint: disable=protected-access
    for now, held in [(1, ["flow_0_0"]), (2, ["flow_0_0", "flow_1_0"]), (31, ["flow_1_0"]), (41, [])]:
        simulation._track_trips(held, now)  # pylint: disable=protected-access
    # flow_0_0: 1 -> 31, trip 30 s, delay 30 - 10; flow_1_0: 2 -> 41, trip 39 s, faster than free flow: delay 0
    assert simulation._arrived == 2  # pylint: disable=protected-access
    assert simulation._trip_sum == 30 + 39 and simulation._delay_sum == 20  # pylint: disable=protected-access


def test_free_flow_time_by_hand():
    """flow 0 of Hangzhou: north on road_4_0_1 and road_4_1_1 (600 m each), east on road_4_2_0 (800 m),
    at 11.111 m/s."""
    network = read_roadnet(SCENARIO.roadnet_file)
    from keras_ip.envs.traffic.cityflow.simulation import _free_flow_times  # pylint: disable=import-outside-toplevel

    times = _free_flow_times(SCENARIO.flow_file, network)
    route = json.loads(pathlib.Path(SCENARIO.flow_file).read_text())[0]["route"]
    assert route == ["road_4_0_1", "road_4_1_1", "road_4_2_0"]
    assert times[0] == pytest.approx((600 + 600 + 800) / 11.111)


@pytest.mark.parametrize("controller", [FixedTimeController, MaxPressureController, GreedyController])
def test_classical_controllers_run_on_cityflow(controller):
    env = make_env("traffic", backend="cityflow", scenario=SCENARIO, max_cycles=40, min_green=0)
    try:
        metrics = run_episode(env, controller(env), seed=0)
        assert metrics["arrived"] > 0 and np.isfinite(list(metrics.values())).all()
    finally:
        env.close()


def test_bad_arguments_name_the_problem():
    with pytest.raises(ValueError, match="time_to_teleport"):
        make_env("traffic", backend="cityflow", scenario=SCENARIO, time_to_teleport=60)
    with pytest.raises(ValueError, match="flow"):
        make_env("traffic", backend="cityflow", scenario=SCENARIO, flow="5734")
    with pytest.raises(ValueError, match="data_dir"):
        make_env("traffic", grid=2, data_dir="/tmp")  # SUMO
    with pytest.raises(ValueError, match="backend"):
        make_env("traffic", backend="vissim", grid=2)
    with pytest.raises(ValueError, match="threads"):
        make_env("traffic", backend="cityflow", scenario=SCENARIO, threads=0)


def test_ip_fits_and_evaluates_with_cityflow_metrics(make_agent):
    env = make_env("traffic", backend="cityflow", scenario=SCENARIO, max_cycles=40)
    try:
        agent = make_agent(env, graph="grid", learning_starts=32, buffer_size=500)
        assert agent.graph == grid(4, 4)
        agent.fit(steps=80, progress_bar=False)
        assert agent.num_timesteps == 80 and agent.num_updates > 0
        metrics = agent.evaluate(episodes=1, seed=0, metrics=True)
        assert {"travel_time", "delay", "arrived"} <= set(metrics) and metrics["arrived"] > 0
    finally:
        env.close()


class _Spy:
    """A CityFlow engine whose set_tl_phase calls are recorded."""

    def __init__(self, engine, shown: list):
        self._engine, self._shown = engine, shown

    def set_tl_phase(self, intersection_id, phase_id):
        self._shown.append((intersection_id, phase_id))
        self._engine.set_tl_phase(intersection_id, phase_id)

    def __getattr__(self, name):
        return getattr(self._engine, name)


def test_green_phases_choose_the_action_set():
    """green_phases=(1, 2, 3, 4): the four two-movement phases most papers use, as actions 0-3."""
    env = make_env("traffic", backend="cityflow", scenario=SCENARIO, green_phases=[1, 2, 3, 4], max_cycles=4)
    try:
        assert env.action_space("signal_0").n == 4 and env.observation_space("signal_0").shape == (4 + 1 + 24,)
        assert list(read_roadnet(SCENARIO.roadnet_file, (1, 2, 3, 4)).phase_ids[0].values()) == [1, 2, 3, 4]
        parallel_api_test(env, num_cycles=4)
    finally:
        env.close()
    with pytest.raises(ValueError, match="green_phases"):
        read_roadnet(SCENARIO.roadnet_file, (0, 1))  # 0 is the yellow phase
    with pytest.raises(ValueError, match="green_phases"):
        make_env("traffic", grid=2, green_phases=[1, 2])  # SUMO
