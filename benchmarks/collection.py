"""Collection throughput with the local and the Ray collector: traffic grids on SUMO and CityFlow.

For each environment (`--envs`: a 10 x 10 SUMO grid, a 10 x 10 CityFlow grid, and the 4 x 4
majority vote game, whose step costs almost nothing, so that its difference between the two
collectors is the transport cost of one step alone), collector
("local": in this process for K = 1, one forked worker process per copy otherwise; "ray": one Ray
actor per copy) and K in `--k`: `IPAgent(env, n_envs=K, collector=...)` collects with policy
actions and no updates (learning_starts=0, train_freq beyond the run), `--warmup` steps and then
`--steps` timed ones. One JSON object each: decisions per second (each step of K copies counts K),
and the seconds per step of the K copies; then, per environment and K, Ray's overhead per step
(Ray's seconds per step minus the local collector's). Everything runs in this process, one
configuration after another; a local Ray instance is started once, on first use.

    python benchmarks/collection.py                              # sumo10, cityflow10, majority_vote; K = 1, 2, 4
    python benchmarks/collection.py --envs cityflow10 --k 1 2 --steps 100
"""

import argparse
import json
import os
import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from _env_info import environment_record  # noqa: E402

ENVS = {"sumo10": ("traffic", {"grid": 10, "min_green": 0}),
        "cityflow10": ("traffic", {"grid": 10, "backend": "cityflow", "min_green": 0}),
        "majority_vote": ("majority_vote", {"rows": 4, "cols": 4})}


def collection(env_name: str, collector: str, num_envs: int, warmup: int, steps: int) -> dict:
    """Decisions per second of IPAgent collection on `env_name` with `num_envs` copies."""
    import keras_ip  # pylint: disable=import-outside-toplevel

    env, env_kwargs = ENVS[env_name]
    agent = keras_ip.IPAgent(env, env_kwargs=env_kwargs, graph="grid", units=32,
                             n_envs=num_envs, collector=collector, learning_starts=0, train_freq=10**9,
                             batch_size=8, buffer_size=(warmup + steps) * num_envs + 8, seed=0)
    try:
        agent.fit(warmup * num_envs, progress_bar=False)
        start = time.perf_counter()
        agent.fit(steps * num_envs, progress_bar=False)
        seconds = time.perf_counter() - start
    finally:
        agent.close()
    return {"benchmark": "collection", "env": env_name, "signals": agent.adapter.num_agents, "collector": collector,
            "n_envs": num_envs, "timed_steps": steps, "decisions_per_s": round(steps * num_envs / seconds, 2),
            "seconds_per_step": round(seconds / steps, 4), "load_average_1min": round(os.getloadavg()[0], 2)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--envs", nargs="+", default=list(ENVS), choices=list(ENVS))
    parser.add_argument("--k", type=int, nargs="+", default=[1, 2, 4], help="environment copies")
    parser.add_argument("--collectors", nargs="+", default=["local", "ray"], choices=["local", "ray"])
    parser.add_argument("--warmup", type=int, default=20, help="steps of the K copies before timing")
    parser.add_argument("--steps", type=int, default=60, help="timed steps of the K copies")
    args = parser.parse_args(argv)
    for env_name in args.envs:
        seconds = {}
        for num_envs in args.k:
            for collector in args.collectors:
                record = collection(env_name, collector, num_envs, args.warmup, args.steps)
                seconds[collector, num_envs] = record["seconds_per_step"]
                print(json.dumps(record), flush=True)
            if {"local", "ray"} <= set(args.collectors):
                print(json.dumps({"benchmark": "ray_overhead", "env": env_name, "n_envs": num_envs,
                                  "ray_minus_local_ms_per_step": round(1000 * (seconds["ray", num_envs]
                                                                               - seconds["local", num_envs]), 2)}),
                      flush=True)
    print(json.dumps(environment_record()), flush=True)


if __name__ == "__main__":
    main()
