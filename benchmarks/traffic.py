"""Traffic-signal control on SUMO: speed at N = 16 ... 1225, and a controller comparison on RESCO grid4x4.

`speed`: for each synthetic n x n grid (netgenerate + randomTrips, 300 vehicles/h per fringe
road), one JSON object with decision steps per second of `TrafficSignalEnv` (5 simulated
seconds each, libsumo, after a warm-up that fills the network) and the median latency of
`IPAgent.predict` (greedy joint action of all N signals from [N, d] observations, mean-field
IP on the road graph, XLA-compiled, after warm-up).

`compare`: on RESCO grid4x4, trains IP (mean field) and the propagation="none" ablation for
`--steps` decision steps each (one episode = 720 steps = 3600 s), then evaluates them and the
fixed-time and max-pressure controllers on `--episodes` greedy episodes; one JSON object per
method with the mean trip time, delay (time loss) and queue length. The four methods run in
separate processes (libsumo runs one simulation per process), two at a time.

    python benchmarks/traffic.py speed                       # n = 4, 10, 15, 35
    python benchmarks/traffic.py compare --steps 7200        # 10 training episodes per learner
"""

import argparse
import json
import pathlib
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import keras_ip  # noqa: E402
from _env_info import environment_record  # noqa: E402
from keras_ip.envs.traffic import TrafficSignalEnv, evaluate_controller, run_in_processes  # noqa: E402

AGENT = dict(graph="grid", units=64, batch_size=256, learning_starts=720, train_freq=4, gradient_steps=1,
             buffer_size=100_000, gamma=0.95)
EVAL_SEED = 10_000


def speed(n: int, warmup: int, steps: int, predictions: int) -> dict:
    """Decision steps per second and IPAgent action latency on an n x n grid."""
    env = TrafficSignalEnv(grid=n)
    rng = np.random.default_rng(0)
    env.reset(seed=0)
    plans = [dict(zip(env.possible_agents, row.tolist())) for row in rng.integers(0, 2, (16, n * n))]
    for k in range(warmup):
        env.step(plans[k % len(plans)])
    vehicles = int(env.simulation.vehicles().sum())
    start = time.perf_counter()
    for k in range(steps):
        observations, *_ = env.step(plans[k % len(plans)])
    rate = steps / (time.perf_counter() - start)
    agent = keras_ip.IPAgent(env, seed=0, **dict(AGENT, learning_starts=10**9))
    obs = np.stack([observations[a] for a in env.possible_agents])  # [N, d]
    agent.predict(obs)  # compile
    latencies = []
    for _ in range(predictions):
        start = time.perf_counter()
        agent.predict(obs)
        latencies.append(time.perf_counter() - start)
    env.close()
    return {"benchmark": "traffic_speed", "n": n, "num_agents": n * n, "obs_dim": int(obs.shape[1]),
            "vehicles_in_network": vehicles, "sim_seconds_before_timing": warmup * env.delta_time,
            "decision_steps_per_s": round(rate, 2), "sim_seconds_per_s": round(rate * env.delta_time, 1),
            "act_latency_ms_median": round(1000 * statistics.median(latencies), 2),
            "act_latency_ms_p90": round(1000 * float(np.percentile(latencies, 90)), 2), "predictions": predictions}


def learner(propagation: str, steps: int, episodes: int, seed: int) -> dict:
    """Trains IPAgent on grid4x4 for `steps` decisions, then evaluates it greedily."""
    start = time.perf_counter()
    env = TrafficSignalEnv(scenario="grid4x4")
    agent = keras_ip.IPAgent(env, propagation=propagation, seed=seed, **AGENT)
    agent.fit(steps, progress_bar=False)
    train_seconds = time.perf_counter() - start
    metrics = agent.evaluate(episodes, deterministic=True, seed=EVAL_SEED, metrics=True)
    env.close()
    return {"method": f"IP propagation={propagation}", "train_steps": steps, "updates": agent.num_updates,
            "train_seconds": round(train_seconds, 1), **metrics}


def controller(name: str, episodes: int) -> dict:
    runs = [evaluate_controller({"scenario": "grid4x4"}, name, seed=EVAL_SEED + e) for e in range(episodes)]
    return {"method": name, "train_steps": 0, **{k: float(np.mean([r[k] for r in runs])) for k in runs[0]}}


def compare_one(method: str, steps: int, episodes: int, seed: int) -> dict:
    if method in ("fixed_time", "max_pressure"):
        result = controller(method, episodes)
    else:
        result = learner(method, steps, episodes, seed)
    return {"benchmark": "traffic_grid4x4", "eval_episodes": episodes, **result}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["speed", "compare"])
    parser.add_argument("--n", type=int, nargs="+", default=[4, 10, 15, 35])
    parser.add_argument("--warmup", type=int, default=60, help="decision steps before timing (speed)")
    parser.add_argument("--timed", type=int, default=40, help="decision steps timed (speed)")
    parser.add_argument("--predictions", type=int, default=50)
    parser.add_argument("--steps", type=int, default=7200, help="training decision steps per learner (compare)")
    parser.add_argument("--episodes", type=int, default=3, help="evaluation episodes (compare)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--methods", nargs="+", default=["mean_field", "none", "fixed_time", "max_pressure"])
    args = parser.parse_args(argv)
    if args.command == "speed":
        for n in args.n:
            print(json.dumps(speed(n, args.warmup, args.timed, args.predictions)), flush=True)
    else:
        calls = [dict(method=m, steps=args.steps, episodes=args.episodes, seed=args.seed) for m in args.methods]
        for result in run_in_processes(compare_one, calls, processes=2):
            print(json.dumps(result), flush=True)
    print(json.dumps({"environment": environment_record(), "agent": AGENT}), flush=True)


if __name__ == "__main__":
    main()
