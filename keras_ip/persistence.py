"""Saving and loading agents: the directory `Estimator.save` writes and `Estimator.load` reads.

  config.json      the config, environment name and options, counters, random generator states,
                   which groups learn, the save format and the algorithm's class name
  graph.npz        the static graph trained on (none for graph="knn")
  checkpoint/      every network's weights, the optimisers' state, the action noise generator
  serving/         the SavedModel of `keras_ip.export`
  replay.npz       the replay buffer's written slots (with include_replay=True)

A save is written next to its path and swapped in at the end, so an interrupted save leaves
the previous one whole.
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import tempfile
import warnings

import numpy as np

from keras_ip.graphs.dynamic import KNN
from keras_ip.graphs.topology import Graph

CONFIG_FILE, GRAPH_FILE, REPLAY_FILE = "config.json", "graph.npz", "replay.npz"
CHECKPOINT_DIR, SERVING_DIR = "checkpoint", "serving"
SAVE_FORMAT = 2  # 2: every encoder reads the degree input (7f5db3e), so format-1 weights do not fit


def save_agent(agent, path, include_replay: bool = False) -> str:
    """Writes `agent` (an `Estimator`) into directory `path`, atomically; returns the path."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = pathlib.Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        write_agent(agent, staging, include_replay)
        _swap_in(staging, path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return str(path)


def write_agent(agent, directory: pathlib.Path, include_replay: bool):
    """The files of a save (see the module docstring) into an existing directory."""
    config = agent.config.to_dict()
    if isinstance(agent.config.graph, KNN):
        config.update(graph="knn", k=agent.config.graph.k, every=agent.config.graph.every)
    elif not isinstance(config["graph"], str):
        config["graph"] = None
    state = {"config": config, "env_name": agent.env_name, "env_kwargs": agent.env_kwargs,
             "num_timesteps": agent.num_timesteps, "num_updates": agent.num_updates,
             "rng_state": agent._rng.bit_generator.state, "fixed_rng_state": agent._fixed_rng.bit_generator.state,
             "keras_ip_format": SAVE_FORMAT, "algorithm": type(agent).__name__,
             "train_groups": None if agent.group_policies.all_trained else agent.group_policies.train_groups,
             "fixed_policies": agent.group_policies.kinds}
    (directory / CONFIG_FILE).write_text(json.dumps(state, indent=2, default=_json_default))
    if agent.graph_schedule is None:
        np.savez(directory / GRAPH_FILE, num_nodes=agent.graph.num_nodes, senders=agent.graph.senders,
                 receivers=agent.graph.receivers)
    agent._checkpoint().write(str(directory / CHECKPOINT_DIR / "agent"))
    agent.export(directory / SERVING_DIR)
    if include_replay and agent.replay is not None:
        np.savez(directory / REPLAY_FILE, **agent.replay.state_dict(copy=False))  # written slots only


def load_agent(cls, path, env=None, fixed_policies=None):
    """The agent of class `cls` saved at `path` (see `Estimator.load` for the arguments)."""
    path = pathlib.Path(path)
    if not (path / CONFIG_FILE).exists():
        raise FileNotFoundError(f"No saved {cls.__name__} at {str(path)!r} (missing {CONFIG_FILE}).")
    state = json.loads((path / CONFIG_FILE).read_text())
    if state.get("keras_ip_format", 1) != SAVE_FORMAT:
        raise ValueError(f"{str(path)!r} was saved in keras-ip's save format {state.get('keras_ip_format', 1)}; "
                         f"this version reads format {SAVE_FORMAT}. Format 1 predates the degree input of every "
                         "encoder (its first kernels have one input row fewer): retrain, or load it with the "
                         "keras-ip version that saved it.")
    algorithm = state.get("algorithm", "IPAgent")  # saves before the key existed are IPAgents
    if algorithm != cls.__name__:
        raise ValueError(f"{str(path)!r} holds a saved {algorithm}; load it with {algorithm}.load. "
                         f"Received: {cls.__name__}.load")
    if env is None and state["env_name"] is None:
        raise ValueError("This agent was trained on an environment object, not a registered name; "
                         f"pass env= to {cls.__name__}.load.")
    config = state["config"]
    graph_spec = config["graph"]
    if graph_spec != "knn":
        with np.load(path / GRAPH_FILE) as saved:  # the graph trained on, even for graph="random"
            config["graph"] = Graph(int(saved["num_nodes"]), saved["senders"], saved["receivers"])
    missing = sorted(group for group, kind in state.get("fixed_policies", {}).items()
                     if kind != "random" and group not in (fixed_policies or {}))
    if missing:
        warnings.warn(f"The saved agent's groups {missing} acted by a callable or an agent, which save cannot "
                      f"keep; pass fixed_policies= to {cls.__name__}.load. They act at random now.", stacklevel=3)
    groups = dict(train_groups=state.get("train_groups"), fixed_policies=fixed_policies)
    if env is None:
        agent = cls(state["env_name"], env_kwargs=state["env_kwargs"], **groups, **config)
    else:
        agent = cls(env, **groups, **config)
        agent.env_name, agent.env_kwargs = state["env_name"], state["env_kwargs"]
    if isinstance(graph_spec, str):
        agent.config.graph = graph_spec  # report the name it was built from; the graph stays the saved one
    agent._checkpoint().read(str(path / CHECKPOINT_DIR / "agent")).assert_existing_objects_matched()
    agent.num_timesteps, agent.num_updates = state["num_timesteps"], state["num_updates"]
    agent._rng.bit_generator.state = state["rng_state"]
    if "fixed_rng_state" in state:
        agent._fixed_rng.bit_generator.state = state["fixed_rng_state"]
    if (path / REPLAY_FILE).exists():
        agent.replay = agent._make_replay()
        with np.load(path / REPLAY_FILE) as saved:
            agent.replay.load_state_dict(dict(saved))
    return agent


def _swap_in(staging: pathlib.Path, path: pathlib.Path):
    """Replaces directory `path` by `staging` so that one of the two always exists whole."""
    if path.exists():
        old = path.with_name(f".{path.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(path, old)
        os.replace(staging, path)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(staging, path)


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"Cannot save {type(value).__name__} in config.json")
