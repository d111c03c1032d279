"""keras-ip: Intention Propagation multi-agent reinforcement learning on TF-GNN GraphTensors.

Public API: `IPAgent`, `IPConfig`, `make_env`, and the namespaces `keras_ip.graphs`,
`keras_ip.layers`, `keras_ip.envs`, `keras_ip.callbacks`.

The package loads its modules on first use (PEP 562 `__getattr__`), so `import keras_ip`
and `keras-ip --help` do not import TensorFlow. The Keras-2 check runs first, here, before
any module of the package can import TensorFlow.
"""

import importlib
import importlib.util
import typing

from keras_ip._keras2 import ensure_legacy_keras

ensure_legacy_keras()

if typing.TYPE_CHECKING:  # what type checkers and the API reference see; at run time, __getattr__ imports them
    from keras_ip import baselines, callbacks, distributed, envs, graphs, layers
    from keras_ip.agent import IPAgent
    from keras_ip.config import IPConfig
    from keras_ip.envs import make_env

__version__ = "0.1.0"
__all__ = ["IPAgent", "IPConfig", "baselines", "callbacks", "distributed", "envs", "graphs", "layers", "make_env"]

_DEFINED_IN = {"IPAgent": "keras_ip.agent", "IPConfig": "keras_ip.config", "make_env": "keras_ip.envs"}


def __getattr__(name: str):
    """Imports a public name, or any submodule (`keras_ip.layers`, `keras_ip.replay`), on first access."""
    if name in _DEFINED_IN:
        value = getattr(importlib.import_module(_DEFINED_IN[name]), name)
    elif not name.startswith("_") and importlib.util.find_spec(f"{__name__}.{name}") is not None:
        value = importlib.import_module(f"{__name__}.{name}")
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
