"""The JSON specs in docs/experiments.md and benchmarks/experiments/ are valid experiments."""

import json
import pathlib
import re

from keras_ip.experiments import ExperimentSpec

DOC = pathlib.Path(__file__).parents[2] / "docs" / "experiments.md"


def test_documented_specs_validate():
    specs = [ExperimentSpec.from_dict(json.loads(block)) for block in re.findall(r"```json\n(.*?)```", DOC.read_text(), re.S)]
    assert [[run.name for run in spec.runs()] for spec in specs] == [
        ["ip", "independent", "dgn", "mfq"], ["ip_hops1", "ip_hops2", "ip_hops3", "independent"]]
    assert specs[0].runs()[2].hyperparameters == {"graph": "knn", "k": 8, "units": 64, "exploration_steps": 5000}


BENCHMARK_SPECS = sorted((pathlib.Path(__file__).parents[2] / "benchmarks" / "experiments").glob("*.json"))


def test_benchmark_specs_validate_and_build_their_environment():
    """benchmarks/reproduce.py's specs: valid fields and values, environments that exist."""
    import keras_ip

    assert len(BENCHMARK_SPECS) >= 7
    for path in BENCHMARK_SPECS:
        spec = ExperimentSpec.from_json(path)
        assert spec.runs(), path.name
        keras_ip.make_env(spec.env, **spec.env_kwargs).close()
