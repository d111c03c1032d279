"""Makes sure TensorFlow runs with Keras 2 (tf-keras), which TF-GNN 1.0.3 needs.

TensorFlow >= 2.16 resolves `tf.keras` lazily, on first attribute access, to Keras 3
unless `TF_USE_LEGACY_KERAS=1` is set by then. This module sets the variable before
TensorFlow is imported and checks afterwards that `tf.keras` really is Keras 2, so a
program that imported TensorFlow and touched `tf.keras` first gets a clear error here
instead of an obscure one deep inside TF-GNN.
"""

import os
import sys

_FIX = (
    "keras_ip needs Keras 2 (the tf-keras package) because tensorflow-gnn 1.0.3 does. "
    "Set the environment variable TF_USE_LEGACY_KERAS=1 before TensorFlow is imported, "
    "or import keras_ip before tensorflow."
)


def ensure_legacy_keras():
    """Sets `TF_USE_LEGACY_KERAS=1` and verifies that `tf.keras` is Keras 2.

    Raises:
      ImportError: TensorFlow was already imported and `tf.keras` resolved to Keras 3,
        or `TF_USE_LEGACY_KERAS` was explicitly set to a false value.
    """
    declared = os.environ.get("TF_USE_LEGACY_KERAS")
    if declared is not None and declared.strip().lower() in ("0", "false", "no"):
        raise ImportError(f"{_FIX} Received: TF_USE_LEGACY_KERAS={declared!r}.")
    already_imported = "tensorflow" in sys.modules
    os.environ["TF_USE_LEGACY_KERAS"] = "1"

    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    keras_module = tf.keras.layers.Layer.__module__
    if not keras_module.startswith("tf_keras"):
        when = "TensorFlow was imported and tf.keras used before keras_ip" if already_imported else "tf.keras is Keras 3"
        raise ImportError(f"{_FIX} Found: {when} (tf.keras.layers.Layer comes from {keras_module!r}).")
