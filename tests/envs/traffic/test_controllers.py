"""Fixed-time, max-pressure and greedy controllers: schedules, pressures and counts worked by hand, then on SUMO."""

import types

import numpy as np
import pytest

from keras_ip.envs.traffic import FixedTimeController, GreedyController, MaxPressureController, run_episode
from keras_ip.envs.traffic.controllers import CONTROLLERS, greedy_phases, max_pressure_phases


def fake_env(num_phases, time=0.0, begin=100.0):
    return types.SimpleNamespace(delta_time=5, possible_agents=[f"signal_{i}" for i in range(len(num_phases))],
                                 network=types.SimpleNamespace(num_phases=np.array(num_phases)),
                                 simulation=types.SimpleNamespace(time=time), scenario=types.SimpleNamespace(begin=begin))


def test_fixed_time_cycles_each_signal_through_its_phases():
    env = fake_env([4, 2])
    controller = FixedTimeController(env, green_time=30)
    schedule = []
    for elapsed in range(0, 150, 5):
        env.simulation.time = 100.0 + elapsed
        schedule.append(list(controller().values()))
    schedule = np.array(schedule)  # [30 decisions, 2 signals]
    assert schedule[:, 0].tolist() == [0] * 6 + [1] * 6 + [2] * 6 + [3] * 6 + [0] * 6
    assert schedule[:, 1].tolist() == [0] * 6 + [1] * 6 + [0] * 6 + [1] * 6 + [0] * 6


def test_fixed_time_green_time_must_fit_the_decision_step():
    with pytest.raises(ValueError, match="multiple of delta_time=5. Received: green_time=12"):
        FixedTimeController(fake_env([2]), green_time=12)


def test_max_pressure_picks_the_phase_with_most_pressure():
    # One signal, lanes 0-3 in, 4-7 out; links: 0->4, 1->5 (phase 0), 2->6, 3->7 (phase 1).
    # A second signal has one phase only: its padded phase must never win.
    network = types.SimpleNamespace(
        link_in=np.array([[0, 1, 2, 3], [2, -1, -1, -1]]), link_out=np.array([[4, 5, 6, 7], [0, -1, -1, -1]]),
        serves=np.array([[[1, 1, 0, 0], [0, 0, 1, 1]], [[1, 0, 0, 0], [0, 0, 0, 0]]], bool),
        num_phases=np.array([2, 1]), max_phases=2)
    vehicles = np.array([3, 0, 2, 2, 0, 0, 0, 1], float)  # pressures: phase 0 = 3 + 0, phase 1 = 2 + 1
    assert max_pressure_phases(network, vehicles).tolist() == [0, 0]  # a tie goes to the lower index
    vehicles[3] = 4  # phase 1 = 2 + 3 = 5 > 3
    assert max_pressure_phases(network, vehicles).tolist() == [1, 0]


def test_greedy_picks_the_phase_with_most_vehicles_on_its_incoming_lanes():
    # Signal 0: incoming lanes 0, 1, 2; links 0->3 and 0->4 (phase 0), 1->5 and 2->3 (phase 1).
    # Signal 1 has one phase: its padded phase must never win.
    network = types.SimpleNamespace(
        in_lanes=np.array([[0, 1, 2], [2, -1, -1]]),
        link_in=np.array([[0, 0, 1, 2], [2, -1, -1, -1]]), link_out=np.array([[3, 4, 5, 3], [0, -1, -1, -1]]),
        serves=np.array([[[1, 1, 0, 0], [0, 0, 1, 1]], [[1, 0, 0, 0], [0, 0, 0, 0]]], bool),
        num_phases=np.array([2, 1]), max_phases=2)
    vehicles = np.array([3, 2, 2, 9, 0, 0], float)
    # Greedy: phase 0 = lane 0 once = 3, phase 1 = lanes 1 + 2 = 4. Max-pressure weighs the
    # 9 vehicles on outgoing lane 3: phase 0 = (3 - 9) + (3 - 0) = -3 > phase 1 = (2 - 0) + (2 - 9) = -5.
    assert greedy_phases(network, vehicles).tolist() == [1, 0]
    assert max_pressure_phases(network, vehicles).tolist() == [0, 0]
    vehicles[0] = 4  # 4 = 4: a tie goes to the lower index
    assert greedy_phases(network, vehicles).tolist() == [0, 0]


def test_the_registry_names_every_controller():
    assert CONTROLLERS == {"fixed_time": FixedTimeController, "max_pressure": MaxPressureController,
                           "greedy": GreedyController}


@pytest.mark.parametrize("controller", [FixedTimeController, MaxPressureController, GreedyController])
def test_controllers_run_on_the_environment(tiny_env, controller):
    metrics = run_episode(tiny_env, controller(tiny_env), seed=0)
    assert set(metrics) == {"team_return", "arrived", "trip_time", "delay", "queue_length"}
    assert metrics["team_return"] <= 0 and metrics["arrived"] > 0
