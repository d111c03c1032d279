"""keras-ip: Intention Propagation multi-agent reinforcement learning on TF-GNN GraphTensors."""

from keras_ip._keras2 import ensure_legacy_keras

ensure_legacy_keras()

from keras_ip import graphs  # noqa: E402  (must follow the Keras-2 check)

__version__ = "0.1.0"
__all__ = ["graphs"]
