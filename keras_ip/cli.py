"""The `keras-ip` command line (also `python -m keras_ip`).

Subcommands:
  demo      train IP on the 3 x 3 coordination game for a short run, print progress and the
            final team reward.
  train     run an experiment (a JSON spec file and/or flags; docs/experiments.md): every
            algorithm x seed trained, logged, checkpointed; re-running resumes it.
  evaluate  evaluate a run directory's last checkpoint (or a checkpoint directory).
  export    write a checkpoint's policy as a SavedModel.
  compare   print the summary table of one or more experiments and write their curves.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import pathlib
import sys
import time
import typing

import keras_ip
from keras_ip._names import PROPAGATIONS
from keras_ip.config import IPConfig


def _demo(args) -> int:
    print(f"keras-ip {keras_ip.__version__}: intention propagation ({args.propagation}) on the "
          f"{args.rows} x {args.cols} coordination game, {args.steps} steps, seed {args.seed}", flush=True)
    start = time.perf_counter()
    agent = keras_ip.IPAgent("coordination", env_kwargs={"rows": args.rows, "cols": args.cols},
                             propagation=args.propagation, units=64, batch_size=256, learning_starts=256,
                             seed=args.seed)
    agent.fit(args.steps)
    greedy = agent.evaluate(episodes=20)
    sampled = agent.evaluate(episodes=100, deterministic=False)
    print(f"trained in {time.perf_counter() - start:.0f} s")
    print(f"final team reward: {sampled:.3f} sampling actions, {greedy:.3f} greedy (optimum 0, random policy "
          f"{-float(agent.graph.num_edges) / 4:.1f})", flush=True)
    return 0


def _train(args) -> int:
    from keras_ip.experiments import ExperimentSpec, format_table, run_experiment  # pylint: disable=import-outside-toplevel

    values = _read_json_file(args.spec) if args.spec else {}
    for name in ("env", "env_kwargs", "algorithms", "seeds", "steps", "out", "sweep", "eval_interval",
                 "eval_episodes", "eval_deterministic", "log_interval", "checkpoint_interval"):
        if getattr(args, name, None) is not None:
            values[name] = getattr(args, name)
    hyperparameters = {name: getattr(args, name) for name in _CONFIG_FLAGS if hasattr(args, name)}
    if hyperparameters:
        values["hyperparameters"] = {**values.get("hyperparameters", {}), **hyperparameters}
    spec = ExperimentSpec.from_dict(values)
    rows = run_experiment(spec, verbose=not args.quiet)
    print(format_table(rows))
    print(f"results in {spec.out}", flush=True)
    return 0


def _evaluate(args) -> int:
    from keras_ip.experiments import load_agent  # pylint: disable=import-outside-toplevel

    agent = load_agent(args.path)
    metrics = agent.evaluate(episodes=args.episodes, deterministic=not args.stochastic, seed=args.seed, metrics=True)
    print(json.dumps({"num_timesteps": agent.num_timesteps, "episodes": args.episodes, **metrics}), flush=True)
    return 0


def _export(args) -> int:
    from keras_ip.experiments import load_agent  # pylint: disable=import-outside-toplevel

    print(load_agent(args.checkpoint).export(args.saved_model_dir), flush=True)
    return 0


def _compare(args) -> int:
    from keras_ip.experiments import format_table, write_report  # pylint: disable=import-outside-toplevel

    several = len(args.experiments) > 1
    rows, plots = write_report(args.experiments, args.out or args.experiments[0], prefix="compare_" if several else "")
    print(format_table(rows))
    for path in plots:
        print(f"wrote {path}")
    return 0


def _read_json_file(path):
    try:
        return json.loads(pathlib.Path(path).read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"{path!r} is not valid JSON: {error}") from error


def _json_argument(text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise argparse.ArgumentTypeError(f"not valid JSON ({error}): {text!r}") from error


def _bool_argument(text: str) -> bool:
    if text.lower() not in ("true", "false"):
        raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")
    return text.lower() == "true"


def _json_or_string(text: str):
    """A JSON value if `text` parses as one (0.2, 8, null), else the string itself ("knn", "auto")."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


_CONFIG_FLAGS = tuple(field.name for field in dataclasses.fields(IPConfig) if field.name != "seed")


def _add_config_flags(parser: argparse.ArgumentParser):
    """One flag per IPConfig field (except seed; --seeds sets it), typed and described by the dataclass."""
    hints = typing.get_type_hints(IPConfig)
    group = parser.add_argument_group("hyperparameters (IPConfig fields, shared by every learning run)")
    for field in (field for field in dataclasses.fields(IPConfig) if field.name in _CONFIG_FLAGS):
        kind = {int: int, float: float, bool: _bool_argument, str: str}.get(hints[field.name], _json_or_string)
        group.add_argument(f"--{field.name.replace('_', '-')}", dest=field.name, type=kind, default=argparse.SUPPRESS,
                           help=f"{field.metadata['help']} (default {field.default!r})".replace("%", "%%"))


def _add_train(commands):
    train = commands.add_parser("train", help="run an experiment from a JSON spec and/or flags",
                                description="Runs every algorithm x seed of an experiment; flags override the "
                                            "spec file's fields. Re-running resumes unfinished runs.")
    train.add_argument("spec", nargs="?", help="a JSON file of ExperimentSpec fields")
    train.add_argument("--env", help="a registered environment name")
    train.add_argument("--env-kwargs", type=_json_argument, help='JSON, e.g. \'{"rows": 2, "cols": 2}\'')
    train.add_argument("--algorithms", nargs="+", help="registered algorithm names, e.g. ip independent")
    train.add_argument("--seeds", nargs="+", type=int)
    train.add_argument("--steps", type=int, help="environment steps per run")
    train.add_argument("--out", help="the experiment's output directory")
    train.add_argument("--sweep", type=_json_argument, help='JSON, e.g. \'{"ip": {"hops": [1, 2, 3]}}\'')
    for name in ("eval_interval", "eval_episodes", "log_interval", "checkpoint_interval"):
        train.add_argument(f"--{name.replace('_', '-')}", type=int)
    train.add_argument("--eval-sampled", dest="eval_deterministic", action="store_false", default=None,
                       help="evaluate actions sampled from the policy instead of greedy ones")
    train.add_argument("--quiet", action="store_true", help="no progress lines")
    _add_config_flags(train)
    train.set_defaults(run=_train)


def _add_other_commands(commands):
    evaluate = commands.add_parser("evaluate", help="evaluate a run directory or a checkpoint")
    evaluate.add_argument("path", help="a run directory (<out>/<run>/seed_<s>) or a checkpoint directory")
    evaluate.add_argument("--episodes", type=int, default=10)
    evaluate.add_argument("--seed", type=int, default=None, help="episode e is reset with seed + e")
    evaluate.add_argument("--stochastic", action="store_true", help="sample actions instead of greedy ones")
    evaluate.set_defaults(run=_evaluate)
    export = commands.add_parser("export", help="write a checkpoint's policy as a SavedModel")
    export.add_argument("checkpoint", help="a run directory or a checkpoint directory")
    export.add_argument("saved_model_dir")
    export.set_defaults(run=_export)
    compare = commands.add_parser("compare", help="summary table and learning curves of experiments")
    compare.add_argument("experiments", nargs="+", help="experiment directories (the --out of train)")
    compare.add_argument("--out", help="where the table and plots go (default: the first experiment directory)")
    compare.set_defaults(run=_compare)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="keras-ip", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="a short training run on the coordination game")
    demo.add_argument("--steps", type=int, default=1500, help="environment steps (default 1500)")
    demo.add_argument("--propagation", default="mean_field", choices=PROPAGATIONS)
    demo.add_argument("--rows", type=int, default=3)
    demo.add_argument("--cols", type=int, default=3)
    demo.add_argument("--seed", type=int, default=0)
    demo.set_defaults(run=_demo)
    _add_train(commands)
    _add_other_commands(commands)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except (ValueError, FileNotFoundError) as error:
        print(f"keras-ip {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
