"""Hardware and software versions, recorded next to every benchmark figure."""

import os
import platform


def environment_record() -> dict:
    import numpy as np
    import tensorflow as tf
    import tensorflow_gnn as tfgnn

    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            cpu = next(line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(), "tensorflow": tf.__version__,
            "tensorflow_gnn": tfgnn.__version__, "numpy": np.__version__,
            "gpus": len(tf.config.list_physical_devices("GPU"))}
