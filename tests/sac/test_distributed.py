"""MirroredStrategy over two logical CPU devices gives the one-device update (run in a fresh
process: logical devices must be configured before TensorFlow initialises)."""

import json
import os
import pathlib
import subprocess
import sys

import pytest

ONE_UPDATE_BOTH_WAYS = """
import json, sys
import keras_ip  # sets TF_USE_LEGACY_KERAS before TensorFlow loads
import numpy as np
import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
sys.path.insert(0, "tests/sac")
from test_learner import CONTINUOUS, DISCRETE, make_batch
from keras_ip.graphs import grid
from keras_ip.networks import build_networks
from keras_ip.sac import SACLearner

spec = {"discrete": DISCRETE, "continuous": CONTINUOUS}[sys.argv[1]]
batch = make_batch(spec, batch_size=8)
tf.keras.utils.set_random_seed(0)
single = build_networks(3, spec, "mean_field", units=16, hops=2)
initial = [network.get_weights() for network in single]
strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
with strategy.scope():
    mirrored = build_networks(3, spec, "mean_field", units=16, hops=2)
for network, weights in zip(mirrored, initial):
    network.set_weights(weights)
results = []
for networks, kwargs in ((single, {}), (mirrored, {"strategy": strategy})):
    learner = SACLearner(networks, spec, grid(2, 2), alpha="auto", jit_compile=False, seed=3, **kwargs)
    metrics = learner.train_step(batch)
    results.append(([w for network in networks for w in network.get_weights()] + [learner.log_alpha.numpy()],
                    {k: float(v) for k, v in metrics.items()}))
(single_weights, single_metrics), (mirrored_weights, mirrored_metrics) = results
replicas_agree = all(np.array_equal(v.values[0].numpy(), v.values[1].numpy())
                     for v in mirrored.actor.trainable_variables)
moved = max(float(np.abs(w - i).max()) for w, i in zip(single_weights, [w for ws in initial for w in ws]))
print(json.dumps({"max_difference": max(float(np.abs(a - b).max()) for a, b in zip(single_weights, mirrored_weights)),
                  "moved": moved, "replicas": strategy.num_replicas_in_sync, "replicas_agree": replicas_agree,
                  "metrics": [single_metrics, mirrored_metrics]}))
"""


@pytest.mark.parametrize("kind", ["discrete", "continuous"])
def test_mirrored_update_on_two_devices_equals_the_one_device_update(kind):
    root = pathlib.Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", ONE_UPDATE_BOTH_WAYS, kind], cwd=root, capture_output=True, text=True,
                          env=dict(os.environ, CUDA_VISIBLE_DEVICES=""), timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["replicas"] == 2 and result["replicas_agree"]
    assert result["moved"] > 1e-4                  # the update changed the weights
    assert result["max_difference"] < 1e-5
    single, mirrored = result["metrics"]
    for key in single:
        assert mirrored[key] == pytest.approx(single[key], rel=1e-5, abs=1e-6), key
