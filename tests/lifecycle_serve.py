"""A TF-only client of keras-ip SavedModels: what a serving process does with an exported agent.

Run by tests/test_lifecycle.py as `python lifecycle_serve.py MANIFEST RESULTS`, once for every
exported agent of the test session (TensorFlow's import alone costs seconds). It imports
TensorFlow and numpy, never keras_ip or tensorflow_gnn.

MANIFEST: JSON {case: {"path": an export directory, "observations": {agent: nested list}
(the environment's own observation dict), "senders", "receivers": the k-NN edges the agent
would use, or null when the export holds its static graph}}.

For each case the client reads `path/assets.extra/keras_ip.json`, stacks the observation dict
into the rows `serving_default` takes (agents in the file's order, each observation
flattened and zero-padded to obs_dim, absent agents' rows left zero), passes the agents'
groups when the model has several, and maps the returned actions back to agent names.

RESULTS: JSON {"cases": {case: {"actions": {agent: action}} or {"error": traceback}},
"imported": the keras_ip / tensorflow_gnn modules this process ended up importing}.
"""

import json
import os
import sys
import traceback

import numpy as np
import tensorflow as tf

METADATA = os.path.join("assets.extra", "keras_ip.json")


def stack_observations(metadata: dict, observations: dict) -> np.ndarray:
    """{agent: observation} -> float32 [N, obs_dim] in the export's agent order."""
    rows = np.zeros((len(metadata["agents"]), metadata["obs_dim"]), np.float32)  # [N, obs_dim]
    for i, agent in enumerate(metadata["agents"]):
        if agent not in observations:
            continue
        row = np.asarray(observations[agent], np.float32).reshape(-1)
        if row.size != metadata["obs_sizes"][i]:
            raise ValueError(f"{agent}'s observation has {row.size} values; the export says {metadata['obs_sizes'][i]}")
        rows[i, :row.size] = row
    return rows


def serve(case: dict) -> dict:
    """One case of the manifest -> {agent: action} for the agents present in its observations."""
    with open(os.path.join(case["path"], METADATA), encoding="utf-8") as file:
        metadata = json.load(file)
    static = metadata["senders"] is not None
    senders = metadata["senders"] if static else case["senders"]
    receivers = metadata["receivers"] if static else case["receivers"]
    if senders is None:
        raise ValueError("the export has a dynamic graph and the manifest gives no edges")
    inputs = {"observations": tf.constant(stack_observations(metadata, case["observations"])),
              "senders": tf.constant(senders, tf.int32, shape=[len(senders)]),
              "receivers": tf.constant(receivers, tf.int32, shape=[len(receivers)])}
    if metadata["has_groups"]:
        inputs["groups"] = tf.constant(metadata["groups"], tf.int32)
    outputs = tf.saved_model.load(case["path"]).signatures["serving_default"](**inputs)
    actions = outputs["actions"].numpy()  # int32 [N] or float32 [N, k]
    return {agent: actions[i].tolist() for i, agent in enumerate(metadata["agents"]) if agent in case["observations"]}


def main(manifest_path: str, results_path: str):
    with open(manifest_path, encoding="utf-8") as file:
        manifest = json.load(file)
    results = {}
    for name, case in manifest.items():
        try:
            results[name] = {"actions": serve(case)}
        except Exception:  # pylint: disable=broad-except  # reported per case to the test
            results[name] = {"error": traceback.format_exc()}
    imported = sorted(name for name in sys.modules if name.split(".")[0] in ("keras_ip", "tensorflow_gnn"))
    with open(results_path, "w", encoding="utf-8") as file:
        json.dump({"cases": results, "imported": imported}, file)
    assert not imported, f"serving imported {imported}"


if __name__ == "__main__":
    main(*sys.argv[1:])
