"""ExperimentSpec: run expansion, sweeps (appendix F ablations), JSON files and errors that name the field."""

import json

import pytest

from keras_ip.experiments import ALGORITHMS, ExperimentSpec, RunSpec, get_algorithm


def spec(**fields):
    return ExperimentSpec(**dict(dict(env="coordination", algorithms=["ip", "independent"]), **fields))


def test_runs_carry_the_algorithm_defaults_shared_and_own_overrides():
    runs = spec(algorithms={"ip": {"hops": 3}, "independent": {}, "small": {"algorithm": "ip", "units": 8}},
                hyperparameters={"units": 32, "batch_size": 64}).runs()
    assert runs == [RunSpec("ip", "ip", {"units": 32, "batch_size": 64, "propagation": "mean_field", "hops": 3}),
                    RunSpec("independent", "independent", {"units": 32, "batch_size": 64, "propagation": "none"}),
                    RunSpec("small", "ip", {"units": 8, "batch_size": 64, "propagation": "mean_field"})]


def test_sweep_expands_a_run_into_one_named_run_per_grid_point():
    runs = spec(sweep={"ip": {"hops": [1, 2, 3]}}).runs()
    assert [run.name for run in runs] == ["ip_hops1", "ip_hops2", "ip_hops3", "independent"]
    assert [run.hyperparameters.get("hops") for run in runs] == [1, 2, 3, None]
    grid = spec(algorithms=["ip"], sweep={"ip": {"graph": ["knn", "random"], "k": [2, 4]}}).runs()
    assert [run.name for run in grid] == ["ip_graphknn_k2", "ip_graphknn_k4", "ip_graphrandom_k2", "ip_graphrandom_k4"]
    assert grid[1].hyperparameters == {"propagation": "mean_field", "graph": "knn", "k": 4}
    propagation = spec(algorithms=["ip"], sweep={"ip": {"propagation": ["mean_field", "loopy_bp"], "every": [1, 5]}})
    assert [run.name for run in propagation.runs()][:2] == ["ip_propagationmean_field_every1",
                                                             "ip_propagationmean_field_every5"]


def test_shared_hyperparameters_go_to_the_runs_whose_algorithm_has_them():
    runs = spec(algorithms=["ip", "dgn"], hyperparameters={"hops": 1, "units": 8}).runs()
    assert [run.hyperparameters for run in runs] == [{"hops": 1, "units": 8, "propagation": "mean_field"},
                                                     {"units": 8}]  # DGN has no hops


def test_controllers_take_no_shared_hyperparameters():
    runs = ExperimentSpec(env="traffic", algorithms=["ip", "max_pressure", "fixed_time"],
                          hyperparameters={"units": 32}).runs()
    assert [run.hyperparameters for run in runs] == [{"units": 32, "propagation": "mean_field"},
                                                     {"controller": "max_pressure"}, {"controller": "fixed_time"}]


def test_json_file_round_trip(tmp_path):
    original = spec(env_kwargs={"rows": 2, "cols": 2}, sweep={"ip": {"hops": [1, 2]}}, seeds=[3, 4], steps=500)
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(original.to_dict()))
    assert ExperimentSpec.from_json(path) == original


@pytest.mark.parametrize("fields, message", [
    ({"env": "nowhere"}, "env must be a registered environment, one of .*Received: env='nowhere'"),
    ({"algorithms": ["ip", "ppo"]}, r"Unknown algorithm. Received: algorithm='ppo'; known algorithms: \['dgn', "),
    ({"algorithms": []}, "algorithms must name at least one run"),
    ({"seeds": [0, 0]}, r"seeds must be a non-empty list of distinct non-negative integers. Received: seeds=\[0, 0\]"),
    ({"seeds": [-1]}, "Received: seeds=\\[-1\\]"),
    ({"steps": 0}, "steps must be an integer >= 1. Received: steps=0"),
    ({"eval_interval": 2.5}, "eval_interval must be an integer >= 1. Received: eval_interval=2.5"),
    ({"eval_deterministic": "no"}, "eval_deterministic must be true or false. Received: eval_deterministic='no'"),
    ({"sweep": {"ip": {"hops": [1, 0]}}}, "Run 'ip_hops0' \\(ip\\): hops must be an integer >= 1. Received: hops=0"),
    ({"sweep": {"ip": {"graph": ["knn", "ring"]}}}, "Run 'ip_graphring': graph must be one of .*Received: graph='ring'"),
    ({"sweep": {"ip": {"propagation": ["magic"]}}}, "propagation must be one of .*Received: propagation='magic'"),
    ({"sweep": {"ppo": {"hops": [1]}}}, r"sweep must name runs in algorithms \['independent', 'ip'\]"),
    ({"sweep": {"ip": {"hops": 2}}}, r"sweep\['ip'\]\['hops'\] must be a non-empty list of values. Received: 2"),
    ({"algorithms": {"ip": {"hopz": 2}}}, r"Run 'ip' \(ip\): unknown hyperparameter\(s\) \['hopz'\]"),
    ({"algorithms": {"ip": {"seed": 2}}}, r"Run 'ip': \['seed'\] are set by the experiment"),
    ({"hyperparameters": {"green_time": 5}}, r"hyperparameters \['green_time'\] apply to none of the runs"),
    ({"hyperparameters": {"units": 0}}, "Run 'ip' \\(ip\\): units must be an integer >= 1. Received: units=0"),
])
def test_bad_values_name_the_field(fields, message):
    with pytest.raises(ValueError, match=message):
        spec(**fields)


def test_from_dict_rejects_unknown_and_missing_fields(tmp_path):
    with pytest.raises(ValueError, match=r"Unknown experiment spec field\(s\) \['step'\]. Valid fields: \['env'"):
        ExperimentSpec.from_dict({"env": "coordination", "algorithms": ["ip"], "step": 5})
    with pytest.raises(ValueError, match=r"needs the field\(s\) \['algorithms'\]"):
        ExperimentSpec.from_dict({"env": "coordination"})
    path = tmp_path / "broken.json"
    path.write_text("{'env': 1}")
    with pytest.raises(ValueError, match="is not valid JSON"):
        ExperimentSpec.from_json(path)


def test_the_registry_builds_every_algorithm_with_the_same_interface():
    assert {"dgn", "fixed_time", "greedy", "independent", "ip", "ip_loopy_bp", "max_pressure", "mfq"} <= set(ALGORITHMS)
    for name in ("ip", "dgn", "mfq"):
        agent_class = get_algorithm(name).agent_class()
        assert all(callable(getattr(agent_class, method)) for method in ("fit", "evaluate", "save", "load"))
    assert "hops" in get_algorithm("ip").hyperparameter_names()
    assert "hops" not in get_algorithm("dgn").hyperparameter_names() and "units" in get_algorithm("dgn").hyperparameter_names()
    assert get_algorithm("fixed_time").hyperparameter_names() == ["controller", "green_time"]


def test_runs_may_name_the_groups_that_learn():
    for name in ("ip", "dgn", "mfq"):
        assert "train_groups" in get_algorithm(name).hyperparameter_names()
    ip = get_algorithm("ip")
    ip.validate({"train_groups": ["big"], "units": 8}, run="ip_big")
    agent = ip.make("heterogeneous_navigation", {"n": 4}, 0, {"train_groups": ["big"], "units": 8, "jit_compile": False})
    assert agent.group_policies.train_groups == ["big"] and agent.group_policies.kinds == {"small": "random"}


def test_the_registry_builds_each_algorithm_with_its_own_defaults():
    tiny = {"units": 8, "jit_compile": False}
    assert get_algorithm("independent").make("coordination", {"rows": 2, "cols": 2}, 0, tiny).config.propagation == "none"
    loopy = get_algorithm("ip_loopy_bp").make("coordination", {"rows": 2, "cols": 2}, 0, tiny)
    assert loopy.config.propagation == "loopy_bp"
    assert get_algorithm("independent").make("coordination", {"rows": 2, "cols": 2}, 0,
                                             dict(tiny, propagation="mean_field")).config.propagation == "mean_field"
