"""Environment throughput: our cooperative navigation against mpe2's simple_spread at the same N.

Prints one JSON object per N: environment steps per second of
  - `CooperativeNavigation` through the PettingZoo ParallelEnv API (dicts in and out),
  - `CooperativeNavigationBatch` with K copies (env-steps/s = K * batch steps/s),
  - mpe2's `simple_spread_v3.parallel_env` (timed for a few steps only when it is slow),
with the ratios ours / mpe2; then one object with hardware and versions. Random discrete
actions are drawn before timing; episodes last 25 steps and the time of resets is included.

    python benchmarks/envs.py                     # N = 15, 30, 200; K = 16; ~2 s per measurement
    python benchmarks/envs.py --n 200 --seconds 1
"""

import argparse
import importlib.metadata
import json
import pathlib
import sys
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from _env_info import environment_record  # noqa: E402

from keras_ip.envs.particles import CooperativeNavigation, CooperativeNavigationBatch  # noqa: E402

MIN_MPE2_STEPS = 3


def steps_per_second(step, seconds: float, min_steps: int = 10) -> tuple[float, int]:
    """Calls `step()` until `seconds` have passed (and at least `min_steps` times); returns (rate, steps)."""
    steps, start = 0, time.perf_counter()
    while steps < min_steps or time.perf_counter() - start < seconds:
        step()
        steps += 1
    return steps / (time.perf_counter() - start), steps


def parallel_env_stepper(env, rng: np.random.Generator):
    """A step() closure for a PettingZoo ParallelEnv with Discrete actions, resetting at the episode's end."""
    plans = [dict(zip(env.possible_agents, row.tolist()))
             for row in rng.integers(0, 5, (64, len(env.possible_agents)))]
    env.reset(seed=0)
    count = iter(range(sys.maxsize))

    def step():
        env.step(plans[next(count) % len(plans)])
        if not env.agents:
            env.reset()

    return step


def batch_stepper(batch: CooperativeNavigationBatch, rng: np.random.Generator):
    """A step() closure for the batched API, resetting every copy at the episode's end."""
    plans = rng.integers(0, 5, (64, batch.num_envs, batch.num_agents))
    batch.reset(seed=0)
    count = iter(range(sys.maxsize))

    def step():
        if batch.step(plans[next(count) % len(plans)])[3].all():
            batch.reset()

    return step


def measure(n: int, num_envs: int, seconds: float) -> dict:
    from mpe2 import simple_spread_v3

    rng = np.random.default_rng(0)
    ours, _ = steps_per_second(parallel_env_stepper(CooperativeNavigation(n=n), rng), seconds)
    batch, _ = steps_per_second(batch_stepper(CooperativeNavigationBatch(num_envs, n), rng), seconds)
    batch *= num_envs
    mpe2_env = simple_spread_v3.parallel_env(N=n, max_cycles=25)
    theirs, mpe2_steps = steps_per_second(parallel_env_stepper(mpe2_env, rng), seconds, MIN_MPE2_STEPS)
    return {"env": "cooperative_navigation", "n": n, "ours_parallel_env_steps_per_s": round(ours, 1),
            "ours_batch_env_steps_per_s": round(batch, 1), "batch_num_envs": num_envs,
            "mpe2_simple_spread_steps_per_s": round(theirs, 2), "mpe2_steps_timed": mpe2_steps,
            "ratio_parallel_env": round(ours / theirs, 1), "ratio_batch": round(batch / theirs, 1)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, nargs="+", default=[15, 30, 200])
    parser.add_argument("--num-envs", type=int, default=16, help="K, the copies of the batched API")
    parser.add_argument("--seconds", type=float, default=2.0, help="time per measurement")
    args = parser.parse_args(argv)
    for n in args.n:
        print(json.dumps(measure(n, args.num_envs, args.seconds)), flush=True)
    versions = {name: importlib.metadata.version(name) for name in ("pettingzoo", "mpe2", "gymnasium")}
    print(json.dumps(dict(environment_record(), **versions)), flush=True)


if __name__ == "__main__":
    main()
