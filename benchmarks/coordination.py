"""The paper's figure 7 check: IP vs independent policies on the 3 x 3 coordination game.

Prints one JSON object per (propagation, seed): the team reward of sampled and greedy actions
after a fixed step budget, the first environment step at which the training team return
(mean of the last 100 episodes, random warm-up included) reached -0.5, the training curve's
last value and the wall time; then one summary object per propagation (mean and std over
seeds) and one with hardware and versions.

    python benchmarks/coordination.py                       # 3000 steps, seeds 0-2, 3 variants
    python benchmarks/coordination.py --steps 1500 --seeds 0 1 --propagation mean_field none
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

SETTINGS = dict(units=64, batch_size=256, learning_starts=256)  # the demo's settings
THRESHOLD = -0.5


class StepsToThreshold(keras_ip.callbacks.Callback):
    """Records the first step at which the logged mean team return reaches THRESHOLD."""

    step = None

    def on_step(self):
        value = self.agent.logger.latest().get("rollout/ep_team_return_mean")
        if self.step is None and value is not None and value >= THRESHOLD:
            self.step = self.agent.num_timesteps
        return True


def run(propagation: str, seed: int, steps: int) -> dict:
    start = time.perf_counter()
    agent = keras_ip.IPAgent("coordination", propagation=propagation, seed=seed, **SETTINGS)
    threshold = StepsToThreshold()
    agent.fit(steps, callbacks=[threshold], progress_bar=False)
    seconds = time.perf_counter() - start
    return {"propagation": propagation, "seed": seed, "steps": steps, "train_seconds": round(seconds, 1),
            "steps_to_train_return_-0.5": threshold.step,
            "train_team_reward_last100": agent.logger.latest()["rollout/ep_team_return_mean"],
            "sampled_team_reward": agent.evaluate(200, deterministic=False, seed=10_000),
            "greedy_team_reward": agent.evaluate(20, seed=10_000)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--propagation", nargs="+", default=["mean_field", "loopy_bp", "none"])
    args = parser.parse_args(argv)
    results = []
    for propagation in args.propagation:
        for seed in args.seeds:
            results.append(run(propagation, seed, args.steps))
            print(json.dumps(results[-1]), flush=True)
    for propagation in args.propagation:
        sampled = [r["sampled_team_reward"] for r in results if r["propagation"] == propagation]
        reached = [r["steps_to_train_return_-0.5"] for r in results if r["propagation"] == propagation]
        print(json.dumps({"summary": propagation, "steps": args.steps, "seeds": args.seeds,
                          "steps_to_train_return_-0.5": reached,
                          "sampled_team_reward_mean": float(np.mean(sampled)),
                          "sampled_team_reward_std": float(np.std(sampled)),
                          "worst_seed": float(np.min(sampled))}), flush=True)
    print(json.dumps({"environment": environment_record(), "settings": SETTINGS}), flush=True)


if __name__ == "__main__":
    main()
