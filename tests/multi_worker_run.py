"""One task of a two-process MultiWorkerMirroredStrategy cluster on loopback, as a user runs it.

Run by tests/test_multi_worker.py as `python multi_worker_run.py ALGORITHM TASK PORT0 PORT1 OUT`:
TF_CONFIG names the two workers (localhost:PORT0, localhost:PORT1) and this task; worker 0 (the
chief) fits the agent and closes it, worker 1 serves the updates; each saves its networks' weights
to OUT (an .npz) and prints {"updates": ...} as JSON.
"""

import json
import os
import sys

ALGORITHM, TASK, PORTS, OUT = sys.argv[1], int(sys.argv[2]), sys.argv[3:5], sys.argv[5]
os.environ["TF_CONFIG"] = json.dumps({"cluster": {"worker": [f"localhost:{port}" for port in PORTS]},
                                      "task": {"type": "worker", "index": TASK}})

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import keras_ip  # noqa: E402
from keras_ip.experiments.algorithms import get_algorithm  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_multi_worker import AGENT_KWARGS, FIT_STEPS, network_weights  # noqa: E402

strategy = tf.distribute.MultiWorkerMirroredStrategy()
agent = get_algorithm(ALGORITHM).make(AGENT_KWARGS["env"], AGENT_KWARGS["env_kwargs"], AGENT_KWARGS["seed"],
                                     dict(AGENT_KWARGS["hyperparameters"], strategy=strategy))
if keras_ip.distributed.is_chief(strategy):
    agent.fit(FIT_STEPS, progress_bar=False)
    updates = agent.num_updates
    agent.close()
else:
    updates = keras_ip.distributed.serve_updates(agent)
np.savez(OUT, *network_weights(agent))
print(json.dumps({"updates": updates}), flush=True)
