"""When does propagation matter? IP with hops 1, 2, 3 against independent policies on majority_vote.

On `majority_vote` each agent sees only its own preference bit and is paid for choosing the
majority bit of its radius-R grid ball, so an agent can act well only with the bits of
agents up to R links away: an independent policy (`propagation="none"`, critics that see
the neighbours' actions) cannot, IP with hops >= R can. Each variant trains for the same
number of environment steps; then the greedy and the sampled policy are evaluated on fresh
bits. Prints one JSON object per (variant, seed), one summary per variant (mean and std over
seeds next to the best team reward any policy with that variant's sight can reach, computed
exactly by `best_expected_reward`), and one with hardware and versions.

    python benchmarks/propagation.py                        # 4 x 4 grid, radius 2, 2000 steps, seeds 0-2
    python benchmarks/propagation.py --steps 1000 --seeds 0 --variants mf2 none
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
from keras_ip.envs.majority_vote import best_expected_reward  # noqa: E402

SETTINGS = dict(units=64, batch_size=256, learning_starts=256)  # the coordination demo's settings
VARIANTS = {  # name -> (propagation, hops, sight: hops of bits the policy can see)
    "mf1": ("mean_field", 1, 1),
    "mf2": ("mean_field", 2, 2),
    "mf3": ("mean_field", 3, 3),
    "none": ("none", 2, 0),
}
EVAL_EPISODES = 200


def run(variant: str, seed: int, steps: int, env_kwargs: dict) -> dict:
    propagation, hops, _ = VARIANTS[variant]
    start = time.perf_counter()
    agent = keras_ip.IPAgent("majority_vote", propagation=propagation, hops=hops, seed=seed, env_kwargs=env_kwargs,
                             **SETTINGS)
    agent.fit(steps, progress_bar=False)
    seconds = time.perf_counter() - start
    return {"variant": variant, "propagation": propagation, "hops": hops, "seed": seed, "steps": steps,
            "train_seconds": round(seconds, 1),
            "train_team_reward_last100": agent.logger.latest()["rollout/ep_team_return_mean"],
            "greedy_team_reward": agent.evaluate(EVAL_EPISODES, seed=10_000),
            "sampled_team_reward": agent.evaluate(EVAL_EPISODES, deterministic=False, seed=10_000)}


def summary(variant: str, results: list, graph, radius) -> dict:
    mine = [r for r in results if r["variant"] == variant]
    record = {"summary": variant, "seeds": [r["seed"] for r in mine],
              "best_possible_with_this_sight": round(best_expected_reward(graph, radius, VARIANTS[variant][2]), 3)}
    for kind in ("greedy", "sampled"):
        values = [r[f"{kind}_team_reward"] for r in mine]
        record[f"{kind}_mean"] = round(float(np.mean(values)), 3)
        record[f"{kind}_std"] = round(float(np.std(values)), 3)
    return record


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--variants", nargs="+", choices=sorted(VARIANTS), default=list(VARIANTS))
    parser.add_argument("--rows", type=int, default=4)
    parser.add_argument("--cols", type=int, default=4)
    parser.add_argument("--radius", type=int, default=2)
    args = parser.parse_args(argv)
    env_kwargs = dict(rows=args.rows, cols=args.cols, radius=args.radius)
    graph = keras_ip.make_env("majority_vote", **env_kwargs).default_graph()
    print(json.dumps({"task": "majority_vote", **env_kwargs, "steps": args.steps, "optimum": float(graph.num_nodes),
                      "best_independent": round(best_expected_reward(graph, args.radius, 0), 3),
                      "eval_episodes": EVAL_EPISODES}), flush=True)
    results = []
    for variant in args.variants:
        for seed in args.seeds:
            results.append(run(variant, seed, args.steps, env_kwargs))
            print(json.dumps(results[-1]), flush=True)
    for variant in args.variants:
        print(json.dumps(summary(variant, results, graph, args.radius)), flush=True)
    print(json.dumps({"environment": environment_record(), "settings": SETTINGS}), flush=True)


if __name__ == "__main__":
    main()
