"""Traffic-signal control on SUMO: speed at N = 16 ... 1225, controller comparisons on RESCO networks.

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

`sensitivity`: the classical controllers (fixed-time, max-pressure, greedy) on `--scenario`
under each simulator rule setting: min_green in {0, 5} and decision interval delta_time in
{5, 10} (yellow `--yellow-time`); one JSON object per controller and setting with the delay
of each of `--seeds` and its mean and 95 % confidence interval (Student t over seeds).

`tune`: each classical controller's best setting, chosen on one validation seed, then
measured on the test seeds: min_green in `--min-greens` for every controller, and green_time
in `--green-times` for fixed-time, under delta_time `--delta-time` and yellow `--yellow-time`.
One JSON object per candidate on the validation seed, then one per controller with its
chosen setting's test delays, mean and 95 % confidence interval. Episodes run one at a
time, in this process.

    python benchmarks/traffic.py speed                       # n = 4, 10, 15, 35
    python benchmarks/traffic.py compare --steps 7200        # 10 training episodes per learner
    python benchmarks/traffic.py sensitivity --scenario grid4x4 --seeds 10000 10001 10002
    python benchmarks/traffic.py tune --scenario grid4x4 --validation-seed 20000 --seeds 10000 10001 10002
"""

import argparse
import importlib.metadata
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


CLASSICAL = ("fixed_time", "max_pressure", "greedy")


def delays(scenario: str, controller: str, seeds, green_time=None, **rules) -> list:
    """The delay of one episode per seed of `controller` on `scenario` under the env `rules`."""
    options = {} if green_time is None else {"green_time": green_time}
    return [evaluate_controller({"scenario": scenario, **rules}, controller, seed=s, **options)["delay"] for s in seeds]


def mean_ci95(values) -> dict:
    """Mean and half-width of the 95 % Student-t confidence interval over `values` (seeds)."""
    from scipy import stats  # pylint: disable=import-outside-toplevel

    values = np.asarray(values, float)
    half = stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values)) if len(values) > 1 else 0.0
    return {"delay_mean": round(float(values.mean()), 2), "delay_ci95": round(float(half), 2),
            "delays": [round(float(v), 2) for v in values]}


def sensitivity(scenario: str, seeds, yellow_time: int, green_time: int):
    """One row per classical controller, delta_time in {5, 10} and min_green in {0, 5}."""
    for controller_name in CLASSICAL:
        for delta_time in (5, 10):
            for min_green in (0, 5):
                rules = dict(delta_time=delta_time, yellow_time=yellow_time, min_green=min_green)
                fixed = {"green_time": green_time} if controller_name == "fixed_time" else {}
                yield {"benchmark": "traffic_sensitivity", "scenario": scenario, "controller": controller_name, **rules,
                       **fixed, "seeds": list(seeds), **mean_ci95(delays(scenario, controller_name, seeds, **fixed,
                                                                         **rules))}


def tune(scenario: str, validation_seed: int, seeds, min_greens, green_times, delta_time: int, yellow_time: int):
    """Validation rows for every candidate setting, then each controller's best on the test seeds."""
    for controller_name in CLASSICAL:
        candidates = [{"min_green": m, **({"green_time": g} if controller_name == "fixed_time" else {})}
                      for m in min_greens for g in (green_times if controller_name == "fixed_time" else [None])]
        scored = []
        for setting in candidates:
            delay = delays(scenario, controller_name, [validation_seed], delta_time=delta_time,
                           yellow_time=yellow_time, **setting)[0]
            scored.append((delay, setting))
            yield {"benchmark": "traffic_tune", "stage": "validation", "scenario": scenario,
                   "controller": controller_name, "delta_time": delta_time, "yellow_time": yellow_time, **setting,
                   "seed": validation_seed, "delay": round(delay, 2)}
        best = min(scored, key=lambda pair: pair[0])[1]
        yield {"benchmark": "traffic_tune", "stage": "test", "scenario": scenario, "controller": controller_name,
               "delta_time": delta_time, "yellow_time": yellow_time, **best, "seeds": list(seeds),
               **mean_ci95(delays(scenario, controller_name, seeds, delta_time=delta_time, yellow_time=yellow_time,
                                  **best))}


def sumo_version() -> dict:
    return {package: importlib.metadata.version(package) for package in ("eclipse-sumo", "libsumo", "sumo-rl")}


def compare_one(method: str, steps: int, episodes: int, seed: int) -> dict:
    if method in ("fixed_time", "max_pressure"):
        result = controller(method, episodes)
    else:
        result = learner(method, steps, episodes, seed)
    return {"benchmark": "traffic_grid4x4", "eval_episodes": episodes, **result}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["speed", "compare", "sensitivity", "tune"])
    parser.add_argument("--n", type=int, nargs="+", default=[4, 10, 15, 35])
    parser.add_argument("--warmup", type=int, default=60, help="decision steps before timing (speed)")
    parser.add_argument("--timed", type=int, default=40, help="decision steps timed (speed)")
    parser.add_argument("--predictions", type=int, default=50)
    parser.add_argument("--steps", type=int, default=7200, help="training decision steps per learner (compare)")
    parser.add_argument("--episodes", type=int, default=3, help="evaluation episodes (compare)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--methods", nargs="+", default=["mean_field", "none", "fixed_time", "max_pressure"])
    parser.add_argument("--scenario", default="grid4x4", help="RESCO network (sensitivity, tune)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[EVAL_SEED, EVAL_SEED + 1, EVAL_SEED + 2],
                        help="test seeds (sensitivity, tune)")
    parser.add_argument("--validation-seed", type=int, default=2 * EVAL_SEED, help="seed the settings are chosen on")
    parser.add_argument("--min-greens", type=int, nargs="+", default=[0, 5], help="candidates (tune)")
    parser.add_argument("--green-times", type=int, nargs="+", default=[10, 20, 30, 40], help="fixed-time candidates")
    parser.add_argument("--delta-time", type=int, default=5, help="decision interval (tune)")
    parser.add_argument("--yellow-time", type=int, default=2)
    parser.add_argument("--green-time", type=int, default=30, help="fixed-time seconds per phase (sensitivity)")
    args = parser.parse_args(argv)
    if args.command == "speed":
        for n in args.n:
            print(json.dumps(speed(n, args.warmup, args.timed, args.predictions)), flush=True)
    elif args.command == "sensitivity":
        for row in sensitivity(args.scenario, args.seeds, args.yellow_time, args.green_time):
            print(json.dumps(row), flush=True)
    elif args.command == "tune":
        for row in tune(args.scenario, args.validation_seed, args.seeds, args.min_greens, args.green_times,
                        args.delta_time, args.yellow_time):
            print(json.dumps(row), flush=True)
    else:
        calls = [dict(method=m, steps=args.steps, episodes=args.episodes, seed=args.seed) for m in args.methods]
        for result in run_in_processes(compare_one, calls, processes=2):
            print(json.dumps(result), flush=True)
    print(json.dumps({"environment": environment_record(), "sumo": sumo_version(), "agent": AGENT}), flush=True)


if __name__ == "__main__":
    main()
