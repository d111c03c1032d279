"""Fixed-time and max-pressure controllers: schedules and pressures worked by hand, then on SUMO."""

import types

import numpy as np
import pytest

from keras_ip.envs.traffic import FixedTimeController, MaxPressureController, run_episode
from keras_ip.envs.traffic.controllers import max_pressure_phases


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


@pytest.mark.parametrize("controller", [FixedTimeController, MaxPressureController])
def test_controllers_run_on_the_environment(tiny_env, controller):
    metrics = run_episode(tiny_env, controller(tiny_env), seed=0)
    assert set(metrics) == {"team_return", "arrived", "trip_time", "delay", "queue_length"}
    assert metrics["team_return"] <= 0 and metrics["arrived"] > 0
