"""The `keras-ip` command line that the README's demo command runs."""

import pytest

from keras_ip import cli


def test_demo_trains_and_reports_the_final_team_reward(capsys):
    assert cli.main(["demo", "--steps", "300", "--rows", "2", "--cols", "2", "--seed", "1"]) == 0
    out = capsys.readouterr().out
    assert "step 300/300" in out
    assert "final team reward:" in out and "(optimum 0, random policy -2.0)" in out


def test_unknown_command_and_bad_propagation_are_rejected():
    with pytest.raises(SystemExit):
        cli.main(["train-everything"])
    with pytest.raises(SystemExit):
        cli.main(["demo", "--propagation", "magic"])


# ----------------------------------------------------------------------------- train / evaluate / export / compare
import dataclasses  # noqa: E402
import json  # noqa: E402
import pathlib  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from keras_ip.config import IPConfig  # noqa: E402
from keras_ip.experiments import load_agent  # noqa: E402
from keras_ip.experiments.records import read_rows  # noqa: E402

# Random actions throughout (learning_starts > steps): nothing is traced, the run takes a second.
SPEC = {"env": "coordination", "env_kwargs": {"rows": 2, "cols": 2}, "algorithms": ["ip", "independent"],
        "seeds": [0, 1], "steps": 60, "log_interval": 20, "eval_interval": 30, "eval_episodes": 2,
        "checkpoint_interval": 60, "hyperparameters": {"units": 8, "learning_starts": 1000}, "out": "ignored"}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """An experiment made by `python -m keras_ip train spec.json --out ... --seeds 1 --units 16 --jit-compile false`."""
    root = tmp_path_factory.mktemp("cli")
    (root / "spec.json").write_text(json.dumps(SPEC))
    result = subprocess.run([sys.executable, "-m", "keras_ip", "train", "spec.json", "--out", "experiment",
                             "--seeds", "1", "--units", "16", "--jit-compile", "false", "--quiet"], cwd=root, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    return root / "experiment", result.stdout


def test_train_runs_the_spec_file_with_flags_overriding_it(trained):
    out, stdout = trained
    assert "results in experiment" in stdout and "independent  independent  1      60" in stdout
    assert sorted(path.name for path in out.glob("*/seed_*")) == ["seed_1", "seed_1"]
    for run in ("ip", "independent"):
        config = json.loads((out / run / "seed_1" / "config.json").read_text())
        assert config["hyperparameters"]["units"] == 16 and config["hyperparameters"]["learning_starts"] == 1000
        assert read_rows(out / run / "seed_1")[-1]["time/total_timesteps"] == 60


def test_evaluate_prints_the_metrics_of_a_run(trained, capsys):
    out, _ = trained
    run = out / "ip" / "seed_1"
    assert cli.main(["evaluate", str(run), "--episodes", "3", "--seed", "4"]) == 0
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    expected = load_agent(run / "checkpoint").evaluate(episodes=3, seed=4, metrics=True)
    assert printed == {"num_timesteps": 60, "episodes": 3, **expected}


def test_export_writes_a_saved_model_that_acts_like_the_checkpoint(trained, tmp_path, capsys):
    out, _ = trained
    run = out / "independent" / "seed_1"
    assert cli.main(["export", str(run / "checkpoint"), str(tmp_path / "serving")]) == 0
    assert capsys.readouterr().out.strip().endswith("serving")
    agent = load_agent(run)
    serve = tf.saved_model.load(str(tmp_path / "serving")).signatures["serving_default"]
    observations = np.ones((4, 1), np.float32)
    served = serve(observations=tf.constant(observations), senders=tf.constant(agent.graph.senders, tf.int32),
                   receivers=tf.constant(agent.graph.receivers, tf.int32))
    np.testing.assert_array_equal(served["actions"].numpy(), agent.predict(observations))


def test_compare_prints_the_table_and_writes_the_curves(trained, tmp_path, capsys):
    out, _ = trained
    assert cli.main(["compare", str(out)]) == 0
    printed = capsys.readouterr().out
    assert printed.splitlines()[0].split() == ["run", "algorithm", "seeds", "steps", "team_return", "team_reward"]
    assert f"wrote {out / 'curve_eval_team_return.png'}" in printed
    assert cli.main(["compare", str(out), str(out), "--out", str(tmp_path)]) == 0
    assert "experiment/independent" in capsys.readouterr().out
    assert (tmp_path / "compare_curve_eval_team_return.png").read_bytes().startswith(b"\x89PNG")
    assert json.loads((tmp_path / "compare_summary.json").read_text())[0]["run"] == "experiment/independent"


def test_every_ipconfig_field_but_seed_is_a_train_flag_typed_from_the_dataclass():
    parser = cli.build_parser()
    args = parser.parse_args(["train", "--env", "coordination", "--graph", "knn", "--k", "4", "--alpha", "auto",
                              "--learning-rate", "3e-4", "--jit-compile", "false", "--target-entropy", "-1.5"])
    assert (args.graph, args.k, args.alpha, args.learning_rate, args.jit_compile, args.target_entropy) == (
        "knn", 4, "auto", 3e-4, False, -1.5)
    flags = {action.dest for action in parser._subparsers._group_actions[0].choices["train"]._actions}
    assert {f.name for f in dataclasses.fields(IPConfig)} - flags == {"seed"}
    assert not hasattr(parser.parse_args(["train"]), "hops")  # unset flags leave the spec's values alone


def test_train_reports_bad_specs_without_a_traceback(tmp_path, capsys):
    assert cli.main(["train", "--env", "coordination", "--algorithms", "ip", "ppo", "--out", str(tmp_path)]) == 2
    assert "keras-ip train: error: Unknown algorithm. Received: algorithm='ppo'" in capsys.readouterr().err
    assert cli.main(["train", "--env", "coordination", "--algorithms", "ip", "--hops", "0"]) == 2
    assert "hops must be an integer >= 1. Received: hops=0" in capsys.readouterr().err
    assert cli.main(["evaluate", str(tmp_path / "nothing")]) == 2
    assert "No run directory or checkpoint" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["train", "--env-kwargs", "{rows: 2}"])
    assert not pathlib.Path(tmp_path / "ip").exists()


# ------------------------------------------------------------------------ help without TensorFlow, from the config
# `python -m keras_ip <argv>`, then the modules it imported; a fresh interpreter, since this one has TensorFlow.
_RUN_AND_LIST_MODULES = """
import runpy, sys
sys.argv = ["keras-ip", *sys.argv[1:]]
try:
    runpy.run_module("keras_ip", run_name="__main__", alter_sys=True)
except SystemExit as exit:
    assert exit.code == 0, exit.code
print("imported:", " ".join(sorted(sys.modules)))
"""


@pytest.mark.parametrize("command", [[], ["train"], ["evaluate"], ["export"], ["compare"], ["demo"]])
def test_help_answers_without_importing_tensorflow(command):
    result = subprocess.run([sys.executable, "-c", _RUN_AND_LIST_MODULES, *command, "--help"], capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith(f"usage: keras-ip {' '.join(command)}".rstrip())
    imported = result.stdout.rsplit("imported: ", 1)[1].split()
    assert not [name for name in imported if name.split(".")[0] in ("tensorflow", "tf_keras", "tensorflow_gnn")]
    assert "keras_ip.cli" in imported and "keras_ip.layers" not in imported


def test_every_ipconfig_field_has_cli_help_and_a_docstring_entry():
    """The help is the field's metadata; the class docstring, which the API reference renders, describes each too."""
    for field in dataclasses.fields(IPConfig):
        assert field.metadata["help"] and not field.metadata["help"].endswith("."), field.name
        assert f"\n      {field.name}: " in IPConfig.__doc__, field.name
    train = cli.build_parser()._subparsers._group_actions[0].choices["train"]
    helps = {action.dest: action.help for action in train._actions}
    assert helps["hops"] == "propagation iterations M of the policy network (default 2)"

