"""Runs SUMO work in separate processes: libsumo holds one simulation per process.

Evaluating several controllers, seeds or scenarios at once therefore needs one process
per simulation. `run_in_processes` spawns fresh interpreters (never forks a process that
already holds TensorFlow or a libsumo simulation) and returns the results in order.
"""

from __future__ import annotations

import multiprocessing
import os


def run_in_processes(function, kwargs_list, processes: int | None = None) -> list:
    """[function(**kwargs) for kwargs in kwargs_list], each call in a fresh spawned process.

    Args:
      function: a module-level (picklable) function; it may build and run its own
        `TrafficSignalEnv` with the default libsumo backend.
      kwargs_list: one dict of keyword arguments per call (picklable).
      processes: how many run at once; default min(len(kwargs_list), CPU count).
    Returns:
      the results, in the order of kwargs_list.

    Example:
      >>> from keras_ip.envs.traffic import evaluate_controller
      >>> calls = [dict(env_kwargs={"scenario": "grid4x4"}, controller="max_pressure", seed=s) for s in (0, 1)]
      >>> first, second = run_in_processes(evaluate_controller, calls)
    """
    kwargs_list = list(kwargs_list)
    if not kwargs_list:
        return []
    processes = processes or min(len(kwargs_list), os.cpu_count() or 1)
    with multiprocessing.get_context("spawn").Pool(processes, maxtasksperchild=1) as pool:
        return pool.starmap(_call, [(function, kwargs) for kwargs in kwargs_list])


def _call(function, kwargs):
    return function(**kwargs)
