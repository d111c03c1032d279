"""Makes sure TensorFlow runs with Keras 2 (tf-keras), which TF-GNN 1.0.3 needs.

TensorFlow >= 2.16 resolves `tf.keras` lazily, on first attribute access, to Keras 3
unless `TF_USE_LEGACY_KERAS=1` is set by then. `import keras_ip` sets the variable
without importing TensorFlow (the package loads its TensorFlow modules on first use), so
every later `tf.keras` is Keras 2. A program that imported TensorFlow and touched
`tf.keras` first gets a clear error here instead of an obscure one deep inside TF-GNN.
"""

import os
import sys

_FIX = (
    "keras_ip needs Keras 2 (the tf-keras package) because tensorflow-gnn 1.0.3 does. "
    "Set the environment variable TF_USE_LEGACY_KERAS=1 before TensorFlow is imported, "
    "or import keras_ip before tensorflow."
)


def ensure_legacy_keras():
    """Sets `TF_USE_LEGACY_KERAS=1`; if TensorFlow is already imported, verifies that `tf.keras` is Keras 2.

    Imports nothing when TensorFlow is not imported yet: the variable is then set before it is.

    Raises:
      ImportError: TensorFlow was already imported and `tf.keras` resolved to Keras 3,
        or `TF_USE_LEGACY_KERAS` was explicitly set to a false value.
    """
    declared = os.environ.get("TF_USE_LEGACY_KERAS")
    if declared is not None and declared.strip().lower() in ("0", "false", "no"):
        raise ImportError(f"{_FIX} Received: TF_USE_LEGACY_KERAS={declared!r}.")
    os.environ["TF_USE_LEGACY_KERAS"] = "1"
    if "tensorflow" not in sys.modules:
        return
    keras_module = sys.modules["tensorflow"].keras.layers.Layer.__module__
    if not keras_module.startswith("tf_keras"):
        raise ImportError(f"{_FIX} Found: TensorFlow was imported and tf.keras used before keras_ip "
                          f"(tf.keras.layers.Layer comes from {keras_module!r}).")
