"""TrafficSignalEnv: PettingZoo API, seeding, observations, timing, rewards and metrics worked by hand."""

import pathlib

import numpy as np
import pytest
from pettingzoo.test import parallel_api_test

from keras_ip import make_env
from keras_ip.envs.traffic import RESCO_SCENARIOS, Scenario, TrafficSignalEnv, scenarios


def test_parallel_api(tiny_env):
    parallel_api_test(tiny_env, num_cycles=tiny_env.max_cycles)


def test_same_seed_same_episode(tiny_env):
    def episode(seed):
        observations, _ = tiny_env.reset(seed=seed)
        trace = [np.stack(list(observations.values()))]
        while tiny_env.agents:
            actions = {agent: tiny_env.action_space(agent).sample() for agent in tiny_env.agents}
            observations, rewards, _, _, infos = tiny_env.step(actions)
            trace += [np.stack(list(observations.values())), np.array(list(rewards.values()))]
        return trace, infos

    (first, first_info), (again, again_info) = episode(7), episode(7)
    assert all(np.array_equal(a, b) for a, b in zip(first, again)) and first_info == again_info


def test_make_env_and_spaces(tiny_env):
    env = make_env("traffic", grid=2, max_cycles=3)
    net = env.network
    assert env.possible_agents == ["signal_0", "signal_1", "signal_2", "signal_3"]
    assert env.observation_space("signal_0").shape == (net.max_phases + 1 + 2 * net.max_lanes,)
    assert env.action_space("signal_3").n == net.max_phases
    assert env.max_cycles == 3 and TrafficSignalEnv(grid=2).max_cycles == 3600 // 5


@pytest.mark.parametrize("name", RESCO_SCENARIOS)
def test_resco_vehicles_spawn_from_the_begin_time(name):
    env = make_env("traffic", scenario=name, max_cycles=100)
    try:
        env.reset(seed=0)
        for _ in range(12):
            env.step({agent: 0 for agent in env.agents})
        assert env.simulation.vehicles().sum() > 0
    finally:
        env.close()


def test_observation_layout_and_min_green(tiny_env):
    observations, _ = tiny_env.reset(seed=0)
    net = tiny_env.network
    p = net.max_phases
    obs = observations["signal_0"]
    assert obs[0] == 1 and obs[1:p].sum() == 0  # phase 0 one-hot
    assert obs[p] == 0  # just switched: min green not over
    assert np.all((0 <= obs) & (obs <= 1))
    for _ in range(2):  # 10 s >= yellow 2 + min green 5
        observations, *_ = tiny_env.step({agent: 0 for agent in tiny_env.agents})
    assert observations["signal_0"][p] == 1


def test_switch_shows_yellow_then_green_and_respects_min_green(tiny_env):
    tiny_env.reset(seed=0)
    state = lambda: tiny_env.simulation._sumo.trafficlight.getRedYellowGreenState(tiny_env.tls_ids[0])  # noqa: E731
    greens = tiny_env.network.green_states[0]
    for _ in range(2):  # at 0 s and 5 s after reset: too early to switch (yellow 2 s + min green 5 s)
        tiny_env.step({agent: 1 for agent in tiny_env.agents})
        assert state() == greens[0] and tiny_env.green[0] == 0
    tiny_env.step({agent: 1 for agent in tiny_env.agents})  # at 10 s: switches, yellow 2 s, then green
    assert state() == greens[1] and tiny_env.green[0] == 1 and tiny_env.since_change[0] == 5
    assert tiny_env.network.max_phases == 2
    tiny_env.step({agent: 3 % 2 for agent in tiny_env.agents})  # same phase: nothing changes
    assert tiny_env.since_change[0] == 10


def test_actions_are_checked(tiny_env):
    tiny_env.reset(seed=0)
    with pytest.raises(ValueError, match=r"integer in \[0, 2\). Received: \{'signal_0': 5\}"):
        tiny_env.step(dict({agent: 0 for agent in tiny_env.agents}, signal_0=5))


def test_exactly_one_of_scenario_and_grid():
    with pytest.raises(ValueError, match="Received: scenario='grid4x4', grid=3"):
        TrafficSignalEnv(scenario="grid4x4", grid=3)


# ----------------------------------------------------------------------------- one vehicle, by hand
def one_vehicle_scenario(tmp_path) -> Scenario:
    """The generated 2 x 2 grid with one vehicle (speed factor 1) driving left0 -> A0 -> B0 -> right0."""
    grid = scenarios.grid(2, duration=300)
    routes = tmp_path / "one.rou.xml"
    routes.write_text('<routes><vType id="car" speedFactor="1" speedDev="0"/>'
                      '<vehicle id="v" type="car" depart="0"><route edges="left0A0 A0B0 B0right0"/></vehicle></routes>')
    return Scenario("one_vehicle", grid.net_file, (str(routes),), 0.0, 300.0)


def phase_serving(env, signal: int, from_edge: str, to_edge: str) -> int:
    """The green phase of `signal` that lets from_edge -> to_edge go."""
    net = env.network
    lanes = np.array(net.lanes)
    valid = net.link_in[signal] >= 0
    links = np.flatnonzero(valid & np.char.startswith(lanes[net.link_in[signal]], from_edge + "_")
                           & np.char.startswith(lanes[net.link_out[signal]], to_edge + "_"))
    return int(np.flatnonzero(net.serves[signal][:, links].any(axis=1))[0])


def test_a_vehicle_held_at_red_costs_delta_time_vehicle_seconds_per_step(tmp_path):
    env = TrafficSignalEnv(one_vehicle_scenario(tmp_path), max_cycles=20)
    a0 = env.tls_ids.index("A0")
    red = 1 - phase_serving(env, a0, "left0A0", "A0B0")
    try:
        env.reset(seed=0)
        actions = {agent: red for agent in env.agents}
        rewards = [env.step(actions)[1] for _ in range(20)]
        waiting = -np.array([[r[agent] for agent in env.possible_agents] for r in rewards]) / env.reward_scale
        assert np.all(waiting[:, [i for i in range(4) if i != a0]] == 0)
        assert np.allclose(waiting[-5:, a0], env.delta_time)  # stopped: 1 vehicle x 5 s per step
    finally:
        env.close()


def test_trip_time_and_delay_of_one_vehicle(tmp_path):
    import sumolib

    env = TrafficSignalEnv(one_vehicle_scenario(tmp_path), max_cycles=30)
    a0, b0 = env.tls_ids.index("A0"), env.tls_ids.index("B0")
    actions = {agent: 0 for agent in env.possible_agents}
    actions[env.possible_agents[a0]] = phase_serving(env, a0, "left0A0", "A0B0")
    actions[env.possible_agents[b0]] = phase_serving(env, b0, "A0B0", "B0right0")
    try:
        env.reset(seed=0)
        total_waiting = 0.0
        while env.agents:
            _, rewards, _, _, infos = env.step(actions)
            total_waiting -= sum(rewards.values()) / env.reward_scale
    finally:
        env.close()
    info = infos["signal_0"]
    net = sumolib.net.readNet(env.scenario.net_file, withInternal=True)
    route = [net.getEdge(e) for e in ("left0A0", "A0B0", "B0right0")]
    crossings = [net.getLane(a.getConnections(b)[0].getViaLaneID()) for a, b in zip(route, route[1:])]
    free_flow = sum(part.getLength() / part.getSpeed() for part in route + crossings)  # seconds at the speed limit
    assert info["arrived"] == 1
    assert info["trip_time"] - info["delay"] == pytest.approx(free_flow, abs=1.0)
    assert info["delay"] >= 0 and total_waiting == 0
    assert info["queue_length"] == 0
