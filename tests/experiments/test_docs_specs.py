"""The JSON specs in docs/experiments.md are valid experiments, with the runs the text says."""

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
