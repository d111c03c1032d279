"""What the golden-fit tests share: comparing a run's arrays with those recorded before a refactor
(tests/test_golden_fit.py, tests/baselines/test_golden_fit.py)."""

import numpy as np


def assert_equals_recorded(path, name: str, actual: dict) -> None:
    """Every array `actual` holds equals the one recorded under the same key in the .npz at `path`,
    and it holds exactly the recorded keys that start with f"{name}/"."""
    with np.load(path) as golden:
        expected = {key: golden[key] for key in golden.files if key.startswith(f"{name}/")}
    assert sorted(actual) == sorted(expected)
    for key, value in expected.items():
        np.testing.assert_array_equal(actual[key], value, err_msg=key)


def run_arrays(name: str, agent, variables, counters) -> dict:
    """A fitted agent's replay state (every stream), `variables` (in order) and `counters`, under keys
    f"{name}/replay{k}/...", f"{name}/weight{i:03d}" and f"{name}/counters"."""
    arrays = {f"{name}/replay{k}/{key}": np.asarray(value)
              for k, buffer in enumerate(agent.replay.buffers) for key, value in buffer.state_dict().items()}
    arrays.update({f"{name}/weight{i:03d}": v.numpy() for i, v in enumerate(variables)})
    arrays[f"{name}/counters"] = np.array(counters)
    return arrays


def write_recorded(path, record, names) -> None:
    """Records `record(name)` (a dict of arrays) for every name into the .npz at `path`."""
    np.savez_compressed(path, **{key: value for name in names for key, value in record(name).items()})
