"""keras-ip: Intention Propagation multi-agent reinforcement learning on TF-GNN GraphTensors.

Public API: `IPAgent`, `IPConfig`, `make_env`, and the namespaces `keras_ip.graphs`,
`keras_ip.layers`, `keras_ip.envs`, `keras_ip.callbacks`.
"""

from keras_ip._keras2 import ensure_legacy_keras

ensure_legacy_keras()

# The imports below must follow the Keras-2 check.
from keras_ip import baselines, callbacks, envs, graphs, layers  # noqa: E402
from keras_ip.agent import IPAgent  # noqa: E402
from keras_ip.config import IPConfig  # noqa: E402
from keras_ip.envs import make_env  # noqa: E402

__version__ = "0.1.0"
__all__ = ["IPAgent", "IPConfig", "baselines", "callbacks", "envs", "graphs", "layers", "make_env"]
