"""The `keras-ip` command line (also `python -m keras_ip`).

Subcommands:
  demo   train IP on the 3 x 3 coordination game for a short run, print progress and the
         final team reward.
"""

from __future__ import annotations

import argparse
import sys
import time


def _demo(args) -> int:
    import keras_ip  # pylint: disable=import-outside-toplevel  (keeps `--help` fast)

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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="keras-ip", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="a short training run on the coordination game")
    demo.add_argument("--steps", type=int, default=1500, help="environment steps (default 1500)")
    demo.add_argument("--propagation", default="mean_field", choices=["mean_field", "loopy_bp", "none"])
    demo.add_argument("--rows", type=int, default=3)
    demo.add_argument("--cols", type=int, default=3)
    demo.add_argument("--seed", type=int, default=0)
    demo.set_defaults(run=_demo)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
