"""A learner over several worker processes (`keras_ip.distributed`, MultiWorkerMirroredStrategy):
two local processes on loopback ports end with the weights one process reaches alone."""

import json
import pathlib
import socket
import subprocess
import sys

import numpy as np
import pytest

from keras_ip.experiments.algorithms import get_algorithm

AGENT_KWARGS = {"env": "coordination", "env_kwargs": {"rows": 2, "cols": 2, "max_cycles": 8}, "seed": 0,
                "hyperparameters": {"units": 16, "batch_size": 8, "learning_starts": 8, "train_freq": 4,
                                    "gradient_steps": 2, "jit_compile": False}}
FIT_STEPS = 40  # 18 updates
RUNNER = pathlib.Path(__file__).with_name("multi_worker_run.py")


def network_weights(agent) -> list:
    """Every variable of the agent's actor, critics, value and target value, as numpy arrays."""
    nets = agent.networks
    return [v.numpy() for net in (nets.actor, nets.critics, nets.value, nets.target_value) for v in net.variables]


def _free_ports(count: int) -> list:
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("localhost", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


@pytest.mark.parametrize("algorithm", ["ip", "isac"])  # the learners that take a strategy
def test_two_workers_reach_the_weights_of_one_process(algorithm, tmp_path):
    ports = [str(port) for port in _free_ports(2)]
    workers = [subprocess.Popen([sys.executable, str(RUNNER), algorithm, str(task), *ports,
                                 str(tmp_path / f"worker{task}.npz")], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True) for task in (0, 1)]
    outputs = [worker.communicate(timeout=300) for worker in workers]
    for worker, (out, err) in zip(workers, outputs):
        assert worker.returncode == 0, err[-3000:]
    updates = [json.loads(out.strip().splitlines()[-1])["updates"] for out, _ in outputs]

    alone = get_algorithm(algorithm).make(AGENT_KWARGS["env"], AGENT_KWARGS["env_kwargs"], AGENT_KWARGS["seed"],
                                          AGENT_KWARGS["hyperparameters"])
    alone.fit(FIT_STEPS, progress_bar=False)
    assert updates == [alone.num_updates] * 2 and alone.num_updates > 0
    chief, worker = (np.load(tmp_path / f"worker{task}.npz") for task in (0, 1))
    expected = network_weights(alone)
    assert len(chief.files) == len(expected)
    for k, value in enumerate(expected):
        np.testing.assert_array_equal(chief[f"arr_{k}"], worker[f"arr_{k}"])  # one set of weights
        np.testing.assert_allclose(chief[f"arr_{k}"], value, rtol=1e-5, atol=1e-6)  # the single-process update
    assert any(not np.allclose(v, 0) for v in expected)


def test_a_dynamic_graph_is_refused_on_several_workers():
    import keras_ip  # pylint: disable=import-outside-toplevel

    agent = keras_ip.IPAgent("cooperative_navigation", env_kwargs={"n": 3}, graph="knn", k=2, units=8, batch_size=8)
    with pytest.raises(ValueError, match="static agent graph"):
        keras_ip.distributed.zero_batch(agent)
