"""Cooperative navigation with a dynamic k-NN graph: IP against independent policies.

For each (propagation, seed) trains `IPAgent(make_env("cooperative_navigation", n=N),
graph="knn", k=8)` for the same number of environment steps and prints one JSON object:
the training team return (mean of the last 100 episodes), the team return and the final
coverage (mpe2's -sum_l min_i |p_i - q_l|) of sampled and greedy actions over 20 evaluation
episodes, and the wall time. For reference at N=30: uniformly random actions score a team
return of about -552 (coverage -18.3), standing still -480 (coverage -17.0). Then a summary per
propagation (mean, std over seeds) and the hardware / versions record.

    python benchmarks/navigation.py                               # N=30, 15000 steps, seeds 0 1
    python benchmarks/navigation.py --n 15 --steps 5000 --seeds 0 1 2
"""

import argparse
import json
import pathlib
import sys
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import keras_ip  # noqa: E402
from _env_info import environment_record  # noqa: E402

SETTINGS = dict(graph="knn", k=8, units=64, batch_size=64, learning_starts=500, train_freq=4, gradient_steps=1)


def run(n: int, propagation: str, seed: int, steps: int, reward: str, aggregation: str) -> dict:
    start = time.perf_counter()
    agent = keras_ip.IPAgent(keras_ip.make_env("cooperative_navigation", n=n, reward=reward), propagation=propagation,
                             aggregation=aggregation, seed=seed, **SETTINGS)
    agent.fit(steps, progress_bar=False)
    seconds = time.perf_counter() - start
    return {"n": n, "reward": reward, "propagation": propagation, "aggregation": aggregation, "seed": seed,
            "steps": steps,
            "updates": agent.num_updates,
            "train_seconds": round(seconds, 1),
            "train_team_return_last100": agent.logger.latest()["rollout/ep_team_return_mean"],
            **{f"sampled_{k}": v for k, v in agent.evaluate(20, False, seed=10_000, metrics=True).items()},
            **{f"greedy_{k}": v for k, v in agent.evaluate(20, True, seed=10_000, metrics=True).items()}}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=30)
    parser.add_argument("--steps", type=int, default=15000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--propagation", nargs="+", default=["mean_field", "none"])
    parser.add_argument("--reward", default="local", choices=["local", "difference", "coverage"])
    parser.add_argument("--aggregation", default="mean", choices=["mean", "sum", "attention"],
                        help="for every propagation (propagation='none' only reads it in its critics)")
    args = parser.parse_args(argv)
    results = []
    for seed in args.seeds:
        for propagation in args.propagation:
            results.append(run(args.n, propagation, seed, args.steps, args.reward, args.aggregation))
            print(json.dumps(results[-1]), flush=True)
    for propagation in args.propagation:
        mine = [r for r in results if r["propagation"] == propagation]
        for key in ("train_team_return_last100", "sampled_team_return", "greedy_team_return", "sampled_coverage",
                    "greedy_coverage"):
            values = [r[key] for r in mine]
            print(json.dumps({"summary": propagation, "metric": key, "mean": float(np.mean(values)),
                              "std": float(np.std(values)), "seeds": args.seeds, "steps": args.steps,
                              "reward": args.reward, "aggregation": args.aggregation}), flush=True)
    print(json.dumps({"environment": environment_record(), "settings": SETTINGS}), flush=True)


if __name__ == "__main__":
    main()
