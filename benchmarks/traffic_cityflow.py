"""Traffic on CityFlow beside SUMO: simulator speed at 16 ... 1225 signals, and the classical
controllers on the public datasets beside their published figures.

`speed`: for each n, `TrafficSignalEnv(grid=n)` on SUMO (libsumo; netgenerate + randomTrips,
300 vehicles/h per fringe road) and on CityFlow (`keras_ip.envs.traffic.cityflow.grid_scenario`),
then the CityFlow datasets (`--datasets`): decision steps (5 simulated seconds each) per second
with uniformly random phases, timed after a warm-up that fills the network, with the vehicles in
the network when timing starts. Both simulators run in this process, one after the other,
reading every lane each simulated second as the environment does.

`published`: max-pressure and fixed-time (`--green-time`) on `--datasets` (flow variant
`--flow`), one full episode (3600 s) per seed and rule setting (the 8 green phases of the
datasets or the 4 most papers use, decision interval, yellow; min_green 0), with CityFlow's
average travel time (finished and unfinished vehicles) beside the figure later papers publish
for the same dataset file. CityFlow without lane changes is deterministic: seeds agree.

`large`: IP (mean field, the road graph) trained on the generated `--grid` x `--grid` CityFlow
grid (35: 1225 signals) for `--steps` decision steps, then one evaluation episode each with greedy
and with sampled actions, and one of uniformly random phases; one JSON object with the wall time
of each part, the updates done and the peak memory (max RSS).

`evaluate`: the final checkpoint of every learner's run in an experiment's output folder
(`--runs`, e.g. runs/reproduce/cityflow_hangzhou4x4) evaluated on the episodes its run evaluated
on, with greedy and with sampled actions, beside uniformly random phases on the same episodes:
on CityFlow a near-uniform policy's greedy actions can be degenerate (a signal that never
leaves one phase), and this shows whether a learner's greedy figure says what it learned.

    python benchmarks/traffic_cityflow.py speed                    # n = 4, 10, 35 on both; the datasets
    python benchmarks/traffic_cityflow.py published                # jinan_3x4 and hangzhou_4x4, real flows
    python benchmarks/traffic_cityflow.py large --grid 35 --steps 2000
    python benchmarks/traffic_cityflow.py evaluate --runs runs/reproduce/cityflow_hangzhou4x4
"""

import argparse
import json
import os
import pathlib
import resource
import sys
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from _env_info import environment_record  # noqa: E402
from keras_ip.envs.traffic import TrafficSignalEnv, run_episode  # noqa: E402
from keras_ip.envs.traffic.controllers import CONTROLLERS  # noqa: E402
from keras_ip.experiments.random_policy import evaluate_random_policy  # noqa: E402

# Average travel time (s) of the real flows ("anon_<grid>_<city>_real.json"), as reported by later
# papers for Jinan 1 and Hangzhou 1 (e.g. the Advanced-XLight tables; MaxPressure with 4 phases,
# 10-15 s actions and a yellow between). See docs/traffic.md for the sources and caveats.
PUBLISHED = {"jinan_3x4": {"max_pressure": 274.0, "colight": 276.0},
             "hangzhou_4x4": {"max_pressure": 349.0, "colight": 297.0}}
RULES = [dict(delta_time=d, yellow_time=y, min_green=0, green_phases=phases) for phases in (None, [1, 2, 3, 4])
         for d in (5, 10, 15) for y in (2, 5) if y < d]


def speed(env_kwargs: dict, warmup: int, timed: int) -> dict:
    """Decision steps per second of `TrafficSignalEnv(**env_kwargs)` with random phases, after `warmup` steps."""
    start = time.perf_counter()
    env = TrafficSignalEnv(**env_kwargs)
    env.reset(seed=0)
    build = time.perf_counter() - start
    rng = np.random.default_rng(0)
    plans = [dict(zip(env.possible_agents, row.tolist()))
             for row in rng.integers(0, env.network.max_phases, (16, env.network.num_agents))]
    for k in range(warmup):
        env.step(plans[k % len(plans)])
    vehicles = int(env.simulation.vehicles().sum())
    start = time.perf_counter()
    for k in range(timed):
        env.step(plans[k % len(plans)])
    rate = timed / (time.perf_counter() - start)
    env.close()
    return {"benchmark": "traffic_simulator_speed", "backend": env_kwargs.get("backend", "libsumo"),
            "network": env_kwargs.get("scenario") or f"grid{env_kwargs['grid']}", "signals": env.network.num_agents,
            "vehicles_in_network": vehicles, "sim_seconds_before_timing": warmup * env.delta_time,
            "decision_steps_per_s": round(rate, 2), "setup_seconds": round(build, 1), "timed_steps": timed,
            "load_average_1min": round(os.getloadavg()[0], 2)}


def published(dataset: str, flow: str, controller: str, rules: dict, seeds, green_time: int) -> dict:
    """One episode per seed of a classical controller on a dataset; CityFlow's travel time and the published one."""
    env = TrafficSignalEnv(backend="cityflow", scenario=dataset, flow=flow, **rules)
    options = {"green_time": green_time} if controller == "fixed_time" else {}
    try:
        runs = [run_episode(env, CONTROLLERS[controller](env, **options), seed=seed) for seed in seeds]
    finally:
        env.close()
    travel = [r["travel_time"] for r in runs]
    reference = PUBLISHED.get(dataset, {}).get(controller) if flow == "real" else None
    return {"benchmark": "cityflow_published", "dataset": dataset, "flow": flow, "controller": controller, **rules,
            **options, "episode_seconds": env.max_cycles * env.delta_time, "seeds": list(seeds),
            "travel_time": [round(t, 2) for t in travel], "travel_time_mean": round(float(np.mean(travel)), 2),
            "delay_mean": round(float(np.mean([r["delay"] for r in runs])), 2),
            "arrived_mean": round(float(np.mean([r["arrived"] for r in runs])), 1), "published": reference,
            "difference_pct": None if reference is None else round(100 * (np.mean(travel) / reference - 1), 1)}


def large(n: int, steps: int, seed: int) -> dict:
    """IP trained for `steps` decisions on the n x n CityFlow grid, then evaluated for one episode."""
    import keras_ip  # pylint: disable=import-outside-toplevel

    start = time.perf_counter()
    env = TrafficSignalEnv(backend="cityflow", grid=n, min_green=0)
    agent = keras_ip.IPAgent(env, graph="grid", units=64, hops=2, batch_size=32, learning_starts=min(720, steps // 2),
                             train_freq=4, gradient_steps=1, buffer_size=10_000, gamma=0.95, seed=seed)
    setup = time.perf_counter() - start
    start = time.perf_counter()
    agent.fit(steps, progress_bar=False)
    train = time.perf_counter() - start
    start = time.perf_counter()
    greedy = agent.evaluate(1, deterministic=True, seed=seed, metrics=True)
    evaluate = time.perf_counter() - start
    sampled = agent.evaluate(1, deterministic=False, seed=seed, metrics=True)
    env.close()
    random = evaluate_random_policy("traffic", dict(backend="cityflow", grid=n, min_green=0), 1, seed)
    return {"benchmark": "cityflow_large", "grid": n, "signals": n * n, "train_steps": steps,
            "updates": agent.num_updates, "batch_size": 32, "setup_seconds": round(setup, 1),
            "train_seconds": round(train, 1), "train_steps_per_s": round(steps / train, 2),
            "eval_seconds": round(evaluate, 1), "max_rss_gib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                                                                     / 2**20, 2),
            **{f"greedy_{key}": round(value, 2) for key, value in greedy.items()},
            **{f"sampled_{key}": round(value, 2) for key, value in sampled.items()},
            **{f"random_{key}": round(float(value), 2) for key, value in random.items()}}


def evaluate_runs(runs: pathlib.Path) -> list[dict]:
    """Greedy, sampled and uniformly random evaluations of every learner's final checkpoint under `runs`."""
    from keras_ip.experiments import ALGORITHMS, ExperimentSpec, RunSpec  # pylint: disable=import-outside-toplevel
    from keras_ip.experiments.runner import EVAL_SEED_BASE, load_agent  # pylint: disable=import-outside-toplevel

    def rounded(metrics: dict) -> dict:
        return {key: round(float(value), 2) for key, value in metrics.items()}

    saved = json.loads((runs / "spec.json").read_text())  # the runner's copy: the spec and its expanded runs
    spec = ExperimentSpec.from_dict({key: value for key, value in saved.items() if key != "runs"})
    records = []
    for run in [RunSpec(**values) for values in saved["runs"]]:
        if not ALGORITHMS[run.algorithm].learns:  # a classical controller's greedy figure is its figure
            continue
        for seed in spec.seeds:
            run_dir = runs / run.name / f"seed_{seed}"
            if not (run_dir / "checkpoint").exists():
                continue
            agent = load_agent(run_dir)
            eval_seed = EVAL_SEED_BASE + 1000 * seed  # the episodes the run evaluated on
            try:
                greedy = agent.evaluate(1, deterministic=True, seed=eval_seed, metrics=True)
                sampled = agent.evaluate(1, deterministic=False, seed=eval_seed, metrics=True)
            finally:
                agent.close()
            random = evaluate_random_policy(spec.env, {**spec.env_kwargs, **run.env_kwargs}, 1, eval_seed, action_seed=seed)
            records.append({"benchmark": "cityflow_evaluate", "runs": str(runs), "run": run.name, "seed": seed,
                            "steps": agent.num_timesteps, "greedy": rounded(greedy), "sampled": rounded(sampled),
                            "uniform_random": rounded(random)})
    return records


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["speed", "published", "large", "evaluate"])
    parser.add_argument("--runs", type=pathlib.Path, help="an experiment's output folder (evaluate)")
    parser.add_argument("--grid", type=int, default=35, help="grid size (large)")
    parser.add_argument("--steps", type=int, default=2000, help="training decision steps (large)")
    parser.add_argument("--n", type=int, nargs="+", default=[4, 10, 35], help="grid sizes (speed)")
    parser.add_argument("--backends", nargs="+", default=["libsumo", "cityflow"], help="simulators (speed)")
    parser.add_argument("--datasets", nargs="+", default=["hangzhou_4x4", "jinan_3x4"])
    parser.add_argument("--flow", default="real", help="the datasets' flow variant (published)")
    parser.add_argument("--warmup", type=int, default=60, help="decision steps before timing (speed)")
    parser.add_argument("--timed", type=int, default=20, help="decision steps timed (speed)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="episode seeds (published)")
    parser.add_argument("--green-time", type=int, default=30, help="fixed-time seconds per phase (published)")
    args = parser.parse_args(argv)
    if args.command == "speed":
        runs = [dict(grid=n, backend=backend) for n in args.n for backend in args.backends]
        runs += [dict(scenario=d, backend="cityflow") for d in args.datasets]
        for env_kwargs in runs:
            print(json.dumps(speed(env_kwargs, args.warmup, args.timed)), flush=True)
    elif args.command == "large":
        print(json.dumps(large(args.grid, args.steps, args.seeds[0])), flush=True)
    elif args.command == "evaluate":
        if args.runs is None or not (args.runs / "spec.json").exists():
            parser.error(f"evaluate needs --runs, an experiment's output folder with a spec.json. Received: --runs={args.runs}")
        for record in evaluate_runs(args.runs):
            print(json.dumps(record), flush=True)
    else:
        for dataset in args.datasets:
            for rules in RULES:
                for controller in ("max_pressure", "fixed_time"):
                    green_time = args.green_time - args.green_time % rules["delta_time"] or rules["delta_time"]
                    print(json.dumps(published(dataset, args.flow, controller, rules, args.seeds, green_time)),
                          flush=True)
    print(json.dumps({"environment": environment_record(), "cityflow": "vendored 81ee0f4 + patches"}), flush=True)


if __name__ == "__main__":
    main()
