"""export: the SavedModel serves the agent's greedy actions to a process that imports only TensorFlow."""

import json
import os
import pathlib
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from keras_ip.graphs.tensor import graph_tensor

SERVE_IN_FRESH_PROCESS = """
import json, sys
import tensorflow as tf

calls = json.load(sys.stdin)
serve = tf.saved_model.load(calls.pop(0)).signatures["serving_default"]
outputs = []
for call in calls:
    result = serve(observations=tf.constant(call["observations"], tf.float32),
                   senders=tf.constant(call["senders"], tf.int32),
                   receivers=tf.constant(call["receivers"], tf.int32))
    outputs.append({name: value.numpy().tolist() for name, value in result.items()})
leaked = [name for name in ("keras_ip", "tensorflow_gnn") if name in sys.modules]
assert not leaked, f"the SavedModel imported {leaked}"
print(json.dumps(outputs))
"""

KINDS = pytest.mark.parametrize("kwargs", [{}, {"propagation": "loopy_bp"}, {"env_kwargs": {"continuous": True}}],
                                ids=["mean_field", "loopy_bp", "continuous"])


def serve_in_fresh_process(path, calls: list) -> list:
    """Runs `calls` (dicts of observations, senders, receivers) through serving_default in a new Python."""
    process = subprocess.run([sys.executable, "-c", SERVE_IN_FRESH_PROCESS], input=json.dumps([str(path)] + calls),
                             capture_output=True, text=True, timeout=300, cwd=pathlib.Path(path).parent,
                             env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    assert process.returncode == 0, process.stderr[-3000:]
    return json.loads(process.stdout.splitlines()[-1])


def assert_serves_like(agent, path, observations):
    """The SavedModel at `path` gives agent.predict's actions for each joint state, in any edge order."""
    senders, receivers = agent.graph.senders.astype(np.int32), agent.graph.receivers.astype(np.int32)
    shuffled = np.random.default_rng(0).permutation(agent.graph.num_edges)
    edge_orders = [(senders, receivers), (senders[shuffled], receivers[shuffled])]
    calls = [{"observations": obs.tolist(), "senders": s.tolist(), "receivers": r.tolist()}
             for obs in observations for s, r in edge_orders]
    outputs = serve_in_fresh_process(path, calls)
    assert len(outputs) == len(calls)
    for call, output in zip(calls, outputs):
        observations = np.asarray(call["observations"], np.float32)
        expected = agent.predict(observations)
        actor_output = agent.networks.actor(graph_tensor(observations, agent.graph))
        actions = np.asarray(output["actions"])
        if agent.adapter.discrete:
            assert set(output) == {"actions", "probabilities"}
            np.testing.assert_array_equal(actions, expected)
            np.testing.assert_allclose(output["probabilities"], tf.nn.softmax(actor_output), atol=1e-5)
        else:
            assert set(output) == {"actions", "mean", "std"}
            np.testing.assert_allclose(actions, expected, atol=1e-5)
            mean, log_std = actor_output
            np.testing.assert_allclose(output["mean"], mean, atol=1e-5)
            np.testing.assert_allclose(output["std"], np.exp(log_std), atol=1e-5)


@KINDS
def test_export_serves_predict_actions_in_fresh_process(fitted, random_observations, kwargs, tmp_path):
    agent = fitted(**kwargs)
    path = agent.export(tmp_path / "1")
    assert path == str(tmp_path / "1")
    assert_serves_like(agent, path, random_observations(agent, 3))


def test_save_writes_a_servable_model(fitted, random_observations, tmp_path):
    agent = fitted()
    agent.save(tmp_path / "agent")
    assert_serves_like(agent, tmp_path / "agent" / "serving", random_observations(agent, 2, seed=1))


def _saved_model_cli():
    beside_python = pathlib.Path(sys.executable).with_name("saved_model_cli")
    return str(beside_python) if beside_python.exists() else shutil.which("saved_model_cli")


@pytest.mark.skipif(_saved_model_cli() is None, reason="saved_model_cli is neither next to python nor on PATH")
def test_saved_model_cli_shows_the_serving_signature(fitted, tmp_path):
    path = fitted().export(tmp_path / "1")
    process = subprocess.run([_saved_model_cli(), "show", "--dir", path, "--all"], capture_output=True, text=True,
                             timeout=300, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    assert process.returncode == 0, process.stderr[-3000:]
    signature = process.stdout.split("signature_def['serving_default']", 1)[1].split("signature_def[", 1)[0]
    for kind, name, dtype in [("inputs", "observations", "DT_FLOAT"), ("inputs", "senders", "DT_INT32"),
                              ("inputs", "receivers", "DT_INT32"), ("outputs", "actions", "DT_INT32"),
                              ("outputs", "probabilities", "DT_FLOAT")]:
        assert re.search(rf"{kind}\['{name}'\] tensor_info:\s+dtype: {dtype}", signature), (name, signature)


@pytest.fixture(scope="module")
def serve(fitted, tmp_path_factory):
    """The serving_default function of the fitted loopy-BP agent, loaded in this process."""
    path = fitted(propagation="loopy_bp").export(tmp_path_factory.mktemp("export") / "1")
    return tf.saved_model.load(path).signatures["serving_default"]


@pytest.mark.parametrize("observations, senders, receivers, message", [
    ([[1.0]] * 4, [0, 7], [7, 0], "out of range"),
    ([[1.0]] * 4, [0, -1], [-1, 0], "below 0"),
    ([[1.0]] * 4, [0, 1, 1], [1, 0], "same length"),
    ([[1.0], [np.nan], [1.0], [1.0]], [0, 1], [1, 0], "NaN"),
], ids=["out_of_range", "negative", "lengths", "nan"])
def test_serving_rejects_bad_input(serve, observations, senders, receivers, message):
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        serve(observations=tf.constant(observations, tf.float32), senders=tf.constant(senders, tf.int32),
              receivers=tf.constant(receivers, tf.int32))


def test_serving_accepts_a_valid_edge_list(serve):
    result = serve(observations=tf.ones([4, 1]), senders=tf.constant([0, 1], tf.int32),
                   receivers=tf.constant([1, 0], tf.int32))
    assert result["actions"].shape == (4,)
