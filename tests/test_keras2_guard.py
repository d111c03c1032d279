"""keras_ip._keras2: importing keras_ip selects Keras 2, or fails with a clear message.

Each case needs a fresh interpreter, since TensorFlow resolves `tf.keras` once per process.
"""

import os
import pathlib
import subprocess
import sys

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]


def run(code, **environment):
    """Runs `code` in a fresh Python without TF_USE_LEGACY_KERAS unless given in `environment`."""
    env = {k: v for k, v in os.environ.items() if k != "TF_USE_LEGACY_KERAS"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env.update(environment)
    return subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                          timeout=120, check=False)


def test_import_selects_keras_2():
    result = run("import os, keras_ip; import tensorflow as tf; "
                 "print(tf.keras.layers.Layer.__module__, os.environ['TF_USE_LEGACY_KERAS'])")
    assert result.returncode == 0, result.stderr
    module, flag = result.stdout.split()
    assert module.startswith("tf_keras.") and flag == "1"


def test_keras_3_already_in_use_is_a_clear_error():
    result = run("import tensorflow as tf; tf.keras.layers.Dense; import keras_ip")
    assert result.returncode != 0
    assert "ImportError: keras_ip needs Keras 2 (the tf-keras package)" in result.stderr
    assert "Set the environment variable TF_USE_LEGACY_KERAS=1" in result.stderr
    assert "tf.keras used before keras_ip" in result.stderr


def test_legacy_keras_explicitly_disabled_is_an_error():
    result = run("import keras_ip", TF_USE_LEGACY_KERAS="0")
    assert result.returncode != 0
    assert "ImportError: keras_ip needs Keras 2" in result.stderr
    assert "Received: TF_USE_LEGACY_KERAS='0'" in result.stderr


def test_tensorflow_imported_first_but_keras_untouched_works():
    result = run("import tensorflow as tf; import keras_ip; print(tf.keras.layers.Layer.__module__)")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith("tf_keras.")


def test_import_is_light_and_the_public_names_load_on_first_use():
    result = run("import sys, keras_ip; assert 'tensorflow' not in sys.modules, 'tensorflow imported'; "
                 "from keras_ip import IPAgent; import tensorflow as tf; "
                 "assert keras_ip.IPAgent is IPAgent and keras_ip.IPConfig().units == 128; "
                 "assert {keras_ip.make_env.__name__, keras_ip.layers.__name__, keras_ip.replay.__name__} == "
                 "{'make_env', 'keras_ip.layers', 'keras_ip.replay'}; "
                 "assert all(hasattr(keras_ip, name) for name in keras_ip.__all__); "
                 "print(tf.keras.layers.Layer.__module__)")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith("tf_keras.")
    missing = run("import keras_ip; keras_ip.IPAgnet")
    assert "AttributeError: module 'keras_ip' has no attribute 'IPAgnet'" in missing.stderr


def test_environments_build_and_step_without_tensorflow():
    """What an environment worker (a Ray actor, a worker process) imports stays free of TensorFlow;
    the GraphTensor names of keras_ip.graphs still load it on first use."""
    result = run("import sys; import numpy as np; import keras_ip; from keras_ip.envs.ray_vector import RayVector; "
                 "from keras_ip.envs.vector import ProcessVector; "
                 "env = keras_ip.make_env('majority_vote', rows=2, cols=3); env.reset(seed=0); "
                 "env.step({agent: 0 for agent in env.agents}); edges = env.default_graph().senders; "
                 "assert 'tensorflow' not in sys.modules, 'tensorflow imported'; "
                 "from keras_ip.graphs import graph_tensor, grid; assert 'tensorflow' in sys.modules; "
                 "print(type(graph_tensor(np.zeros((4, 3), np.float32), grid(2, 2))).__name__)")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "GraphTensor"
    missing = run("import keras_ip.graphs; keras_ip.graphs.graph_tensr")
    assert "AttributeError: module 'keras_ip.graphs' has no attribute 'graph_tensr'" in missing.stderr
