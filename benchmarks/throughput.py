"""Update and acting throughput of the SAC learner, and environment collection speed.

Prints one JSON object per line:
  - one per update setting (N agents x batch x XLA): ms per update, agent-samples per
    second, the update's matmul GFLOPs (counted from the traced graph: the live MatMul,
    BatchMatMul and Einsum ops with their static shapes; also per agent-sample, in total
    and by part of the update), achieved matmul GFLOP/s next to the dense
    float32 matmul rate measured in the same process, the fraction of that rate, ms per
    compiled action call for one joint state, and the process's peak RSS;
  - one per collection setting (K environment copies): environment steps per second of
    `IPAgent` collection with n_envs=K on cooperative navigation;
  - one with hardware, versions and the load average.
Every setting runs in its own subprocess, so peak RSS is that setting's own. Timings are
the median of several repeats; the load average and matmul rate of the same run say how
busy the machine was. Networks: hidden 128, obs 26, 5 discrete actions, mean field, 2
hops, symmetric k-NN graph with k=8 over random positions.

    python benchmarks/throughput.py            # N in {9,30,100,225,1225} x batch {256,1024} x XLA on/off
    python benchmarks/throughput.py --quick    # N in {100, 1225}, batch 256, defaults
    python benchmarks/throughput.py --flops --n 100 --batch 256   # FLOP count by part only
    python benchmarks/throughput.py --quick --critic-hops 0        # the leaner critics (see docs/performance.md)
"""

import argparse
import importlib.util
import json
import os
import pathlib
import resource
import statistics
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from _env_info import environment_record  # noqa: E402

OBS_DIM, NUM_ACTIONS, UNITS, K = 26, 5, 128, 8
MATMUL_OPS = ("MatMul", "BatchMatMul", "BatchMatMulV2", "BatchMatMulV3", "Einsum")
MEMORY_LIMIT_GB = 12.0


def live_operations(graph) -> set:
    """The ops of a traced graph that its outputs or side effects depend on.

    Autodiff also emits gradients nobody reads (with respect to frozen critic kernels, one-hot
    actions and observations); TensorFlow and XLA prune them before running, so they are not
    counted.
    """
    live, stack = set(), [t.op for t in graph.outputs] + list(graph.control_outputs)
    while stack:
        op = stack.pop()
        if op not in live:
            live.add(op)
            stack.extend([t.op for t in op.inputs] + list(op.control_inputs))
    return live


def op_flops(op) -> float:
    """FLOPs of one MatMul / BatchMatMul / Einsum op from its static shapes."""
    if op.type == "Einsum":
        sizes = {}
        for labels, tensor in zip(op.get_attr("equation").decode().split("->")[0].split(","), op.inputs):
            sizes.update(zip(labels, tensor.shape.as_list()))
        return 2.0 * float(np.prod(list(sizes.values())))
    transposed = op.get_attr("transpose_a" if op.type == "MatMul" else "adj_x")
    a = op.inputs[0].shape.as_list()
    return 2.0 * float(np.prod(op.outputs[0].shape.as_list())) * (a[-2] if transposed else a[-1])


def part_of(op_name: str) -> str:
    """'gradient_tape/actor/mean_field/...' -> 'actor backward'; 'value/self_0/...' -> 'value'.

    The learner names its parts with name scopes (actor, critics_state, critics_replayed,
    critics_sampled, value, target_value); gradients live under gradient_tape/.
    """
    backward = op_name.startswith("gradient_tape/")
    scope = op_name.removeprefix("gradient_tape/").split("/")[0]
    return scope + (" backward" if backward else "")


def matmul_flops(graph) -> dict:
    """{part: FLOPs} of the live MatMul / BatchMatMul / Einsum ops of a traced tf.Graph
    (nested functions, e.g. the gradient functions of while loops, counted whole)."""
    parts = {}
    for function in graph._functions.values():
        for name, flops in (matmul_flops(function.graph) if hasattr(function, "graph") else {}).items():
            parts[name] = parts.get(name, 0.0) + flops
    for op in live_operations(graph):
        if op.type in MATMUL_OPS:
            parts[part_of(op.name)] = parts.get(part_of(op.name), 0.0) + op_flops(op)
    return parts


def dense_matmul_gflops(size: int = 2048, repeats: int = 7) -> float:
    """The machine's float32 dense matmul rate right now (median of compiled [size, size] products)."""
    import tensorflow as tf

    a = tf.random.normal([size, size])
    product = tf.function(lambda x: tf.matmul(x, x), jit_compile=True)
    product(a).numpy()
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(4):
            out = product(a)
        out.numpy()
        rates.append(4 * 2.0 * size**3 / (time.perf_counter() - start) / 1e9)
    return statistics.median(rates)


def knn_graph(num_agents: int, seed: int = 0):
    from keras_ip.graphs import knn

    positions = np.random.default_rng(seed).uniform(-1, 1, (num_agents, 2))
    return knn(positions, min(K, num_agents - 1))


def random_batch(batch_size: int, num_agents: int, seed: int = 0):
    from keras_ip.replay import Batch

    rng = np.random.default_rng(seed)
    obs = rng.normal(size=(batch_size, num_agents, OBS_DIM)).astype(np.float32)
    return Batch(obs, rng.integers(0, NUM_ACTIONS, (batch_size, num_agents)).astype(np.int32),
                 rng.normal(size=(batch_size, num_agents)).astype(np.float32), np.roll(obs, 1, axis=0),
                 np.zeros((batch_size, num_agents), np.float32), None, None, None, None)


def timed(call, repeats: int, min_seconds: float) -> float:
    """Median seconds per call over `repeats` timings of >= min_seconds each."""
    times = []
    for _ in range(repeats):
        calls, start = 0, time.perf_counter()
        while calls == 0 or time.perf_counter() - start < min_seconds:
            call()
            calls += 1
        times.append((time.perf_counter() - start) / calls)
    return statistics.median(times)


def flops_record(networks, spec, graph, batch) -> dict:
    """The update's matmul FLOPs, in total and per agent-sample by part, from an unchunked
    trace (a chunked update runs the same ops in a loop; tracing runs nothing)."""
    from keras_ip.sac import SACLearner

    samples = int(np.prod(batch.rewards.shape))
    whole = SACLearner(networks, spec, graph, max_chunk_agents=samples)
    parts = matmul_flops(whole.train_step.get_concrete_function(batch).graph)
    return {"gflops": sum(parts.values()) / 1e9, "mflop_per_agent_sample": sum(parts.values()) / samples / 1e6,
            "kflop_per_agent_sample_by_part": {name: round(value / samples / 1e3, 1)
                                               for name, value in sorted(parts.items(), key=lambda p: -p[1])}}


def update_record(num_agents: int, batch_size: int, xla: bool, repeats: int, timing: bool = True,
                  critic_hops: int = 1) -> dict:
    """One setting, measured in this process (timing=False: only the FLOP count, no run)."""
    import tensorflow as tf

    from keras_ip.networks import ActionSpec, build_networks
    from keras_ip.sac import SACLearner
    from keras_ip.sac.policy import compiled_actions

    spec = ActionSpec(num_actions=NUM_ACTIONS)
    graph = knn_graph(num_agents)
    tf.keras.utils.set_random_seed(0)
    networks = build_networks(OBS_DIM, spec, "mean_field", units=UNITS, critic_hops=critic_hops)
    batch = random_batch(batch_size, num_agents)
    counted = flops_record(networks, spec, graph, batch)
    if not timing:
        return {"kind": "flops", "num_agents": num_agents, "batch": batch_size, "critic_hops": critic_hops, **counted}
    flops = 1e9 * counted["gflops"]
    learner = SACLearner(networks, spec, graph, jit_compile=xla, seed=0)
    start = time.perf_counter()
    learner.train_step(batch)["q"].numpy()
    compile_seconds = time.perf_counter() - start
    # Acting is timed before the updates, as in serving: timed after them it came out slower
    # (N=1225, batch 256, idle: 3.74 ms after against 2.84 before, 2.4-2.6 in a process that only acts).
    act = compiled_actions(learner.networks.actor, spec, tf.random.Generator.from_seed(0), xla, learner.batcher)
    joint_state = batch.observations[:1]
    act(joint_state, False).numpy()
    act_seconds = timed(lambda: act(joint_state, False).numpy(), repeats, min_seconds=0.3)
    seconds = timed(lambda: learner.train_step(batch)["q"].numpy(), repeats, min_seconds=1.0)
    dense = dense_matmul_gflops()
    achieved = flops / seconds / 1e9
    return {"kind": "update", "num_agents": num_agents, "batch": batch_size, "xla": xla, "critic_hops": critic_hops,
            "edges": graph.num_edges, "ms_per_update": 1e3 * seconds,
            "agent_samples_per_s": batch_size * num_agents / seconds, **counted,
            "matmul_gflops": dense, "achieved_gflops_per_s": achieved, "matmul_fraction": achieved / dense,
            "ms_per_act": 1e3 * act_seconds, "compile_s": compile_seconds,
            "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
            "loadavg": os.getloadavg()}


def collection_record(num_envs: int, num_agents: int, seconds: float) -> dict:
    """Environment steps per second of IPAgent collection with n_envs copies (policy actions)."""
    import keras_ip

    agent = keras_ip.IPAgent("cooperative_navigation", env_kwargs=dict(n=num_agents), graph="knn", k=K,
                             n_envs=num_envs, learning_starts=0, train_freq=10**9, batch_size=8, buffer_size=20_000,
                             seed=0)
    agent.fit(steps=2 * num_envs, progress_bar=False)  # warm-up: compiles the action call
    start_steps, start = agent.num_timesteps, time.perf_counter()
    while time.perf_counter() - start < seconds:
        agent.fit(steps=8 * num_envs, progress_bar=False)
    rate = (agent.num_timesteps - start_steps) / (time.perf_counter() - start)
    return {"kind": "collection", "n_envs": num_envs, "num_agents": num_agents, "env_steps_per_s": rate,
            "agent_steps_per_s": rate * num_agents, "loadavg": os.getloadavg()}


def run_in_subprocess(args: list) -> dict | None:
    """Runs this script with `args` in a fresh process; returns its JSON record (None on failure)."""
    done = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        print(json.dumps({"failed": args, "stderr_tail": done.stderr[-800:]}), flush=True)
        return None
    return json.loads(lines[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="N in {100, 1225}, batch 256, default settings")
    parser.add_argument("--n", type=int, nargs="+", default=[9, 30, 100, 225, 1225])
    parser.add_argument("--batch", type=int, nargs="+", default=[256, 1024])
    parser.add_argument("--xla", choices=["on", "off", "both"], default="both")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--collection-n", type=int, default=100, help="agents per env in the collection benchmark")
    parser.add_argument("--skip", nargs="*", default=["1225:1024:off"],
                        help="N:batch:xla settings not to run (default: the one that exceeds memory)")
    parser.add_argument("--flops", action="store_true",
                        help="only count each --n x --batch setting's matmul FLOPs (by part); runs nothing")
    parser.add_argument("--critic-hops", type=int, default=1,
                        help="state hops of the critics and V (IPConfig.critic_hops; default 1, the default)")
    parser.add_argument("--one", nargs=3, metavar=("N", "BATCH", "XLA"), help=argparse.SUPPRESS)
    parser.add_argument("--collect", type=int, metavar="K", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(update_record(int(args.one[0]), int(args.one[1]), args.one[2] == "on", args.repeats,
                                       critic_hops=args.critic_hops)))
        return
    if args.flops:
        for n in args.n:
            for batch in args.batch:
                print(json.dumps(update_record(n, batch, True, 0, timing=False, critic_hops=args.critic_hops)),
                      flush=True)
        return
    if args.collect:
        print(json.dumps(collection_record(args.collect, args.collection_n, seconds=5.0)))
        return
    if importlib.util.find_spec("keras_ip") is None:
        # Each setting runs this script in a subprocess, where the repository root is not on sys.path.
        sys.exit("benchmarks/throughput.py: keras_ip is not importable; install it first with "
                 "`pip install -e .` from the repository root")
    grid_n, batches, modes = args.n, args.batch, {"on": ["on"], "off": ["off"], "both": ["on", "off"]}[args.xla]
    if args.quick:
        grid_n, batches, modes = [100, 1225], [256], ["on"]
    for n in grid_n:
        for batch in batches:
            for mode in modes:
                if f"{n}:{batch}:{mode}" in args.skip:
                    print(json.dumps({"kind": "update", "num_agents": n, "batch": batch, "xla": mode == "on",
                                      "skipped": "exceeds the memory budget (see docs/performance.md)"}), flush=True)
                    continue
                record = run_in_subprocess(["--one", str(n), str(batch), mode, "--repeats", str(args.repeats),
                                            "--critic-hops", str(args.critic_hops)])
                if record:
                    print(json.dumps(record), flush=True)
    for num_envs in ([] if args.quick else [1, 4, 16]):
        record = run_in_subprocess(["--collect", str(num_envs), "--collection-n", str(args.collection_n)])
        if record:
            print(json.dumps(record), flush=True)
    import keras_ip  # noqa: F401  (sets TF_USE_LEGACY_KERAS before environment_record imports TF-GNN)

    print(json.dumps({"kind": "environment", **environment_record(), "loadavg": os.getloadavg()}), flush=True)


if __name__ == "__main__":
    main()
