"""The JSON specs in docs/experiments.md and benchmarks/experiments/ are valid experiments."""

import importlib.util
import json
import os
import pathlib
import re

import pytest

from keras_ip.experiments import ExperimentSpec

DOC = pathlib.Path(__file__).parents[2] / "docs" / "experiments.md"


def test_documented_specs_validate():
    specs = [ExperimentSpec.from_dict(json.loads(block)) for block in re.findall(r"```json\n(.*?)```", DOC.read_text(), re.S)]
    assert [[run.name for run in spec.runs()] for spec in specs] == [
        ["ip", "independent", "dgn", "mfq"], ["ip_hops1", "ip_hops2", "ip_hops3", "independent"]]
    assert specs[0].runs()[2].hyperparameters == {"graph": "knn", "k": 8, "units": 64, "exploration_steps": 5000}


BENCHMARK_SPECS = sorted((pathlib.Path(__file__).parents[2] / "benchmarks" / "experiments").glob("*.json"))


CITYFLOW_DATA = pathlib.Path(os.environ.get(
    "KERAS_IP_CITYFLOW_DATA", pathlib.Path(__file__).parents[3] / "shared" / "data" / "cityflow"))


def test_benchmark_specs_validate_and_build_their_environment(monkeypatch):
    """benchmarks/reproduce.py's specs: valid fields and values, environments that exist.

    The CityFlow specs' environments are built from the shared datasets (never downloaded here);
    without CityFlow or the datasets they are validated only.
    """
    import keras_ip

    monkeypatch.setenv("KERAS_IP_CITYFLOW_DATA", str(CITYFLOW_DATA))
    cityflow_ready = importlib.util.find_spec("cityflow") is not None and CITYFLOW_DATA.is_dir()
    assert len(BENCHMARK_SPECS) >= 7
    built = 0
    for path in BENCHMARK_SPECS:
        spec = ExperimentSpec.from_json(path)
        assert spec.runs(), path.name
        if spec.env_kwargs.get("backend") == "cityflow" and not cityflow_ready:
            continue
        keras_ip.make_env(spec.env, **spec.env_kwargs).close()
        built += 1
    assert built >= 7
    if not cityflow_ready:
        pytest.skip(f"{len(BENCHMARK_SPECS) - built} CityFlow specs validated but not built: CityFlow or "
                    f"its datasets at {CITYFLOW_DATA} are missing (docs/traffic.md says how to install)")
