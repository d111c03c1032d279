"""libsumo holds one simulation per process: a second one is refused; processes or traci run several."""

import pytest

from keras_ip.envs.traffic import TrafficSignalEnv, evaluate_controller, run_in_processes


def test_a_second_libsumo_simulation_in_one_process_is_refused(tiny_env, tiny_kwargs):
    other = TrafficSignalEnv(**tiny_kwargs)
    tiny_env.reset(seed=0)
    with pytest.raises(RuntimeError, match="libsumo runs one simulation per process.*run_in_processes"):
        other.reset(seed=0)
    tiny_env.close()
    other.reset(seed=0)  # free again
    other.close()


def test_a_finished_episode_frees_libsumo(tiny_env, tiny_kwargs):
    tiny_env.reset(seed=0)
    while tiny_env.agents:
        tiny_env.step({agent: 0 for agent in tiny_env.agents})
    other = TrafficSignalEnv(**tiny_kwargs)
    other.reset(seed=0)
    other.close()


def test_traci_runs_two_simulations_side_by_side(tiny_kwargs):
    first, second = (TrafficSignalEnv(**tiny_kwargs, backend="traci") for _ in range(2))
    try:
        first.reset(seed=1)
        second.reset(seed=1)
        for _ in range(3):
            actions = {agent: 1 for agent in first.agents}
            assert first.step(actions)[1] == second.step(actions)[1]
    finally:
        first.close()
        second.close()


def test_two_libsumo_environments_in_parallel_processes(tiny_kwargs):
    call = dict(env_kwargs=tiny_kwargs, controller="max_pressure", seed=3)
    first, second = run_in_processes(evaluate_controller, [call, call])
    assert first == second == evaluate_controller(**call)  # and the same as in this process
    assert set(first) == {"team_return", "arrived", "trip_time", "delay", "queue_length"}
