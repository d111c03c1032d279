"""The paper's comparisons, reproduced on 2 CPU cores: under an hour each (navigation30_long:
about 65 minutes per run, measured).

Each experiment is a spec in benchmarks/experiments/ (run by `keras_ip.experiments`, the same
code as `keras-ip train <spec>`):
  coordination   the 3 x 3 coordination game (figure 7): IP vs independent policies
  navigation15   cooperative navigation, N=15, k-NN graph: IP vs independent vs DGN vs MFQ
  grid4x4        RESCO grid4x4 on SUMO: IP vs independent vs max-pressure vs fixed-time
and ablations:
  critic_majority, critic_navigation15   critic_hops 0 vs 1 (docs/performance.md, "Leaner critics")
  navigation30_narrow   N=30, each agent seeing 1 landmark and 1 agent: IP vs independent
  navigation30_long     N=30, the default view, 300 000 steps: IP vs independent (docs/environments.md)

Prints one JSON object per (experiment, run): the final evaluation's mean and std over seeds
(team return and the environment's metrics), then one with hardware and versions. With
--docs, copies each experiment's curves (PNG) and summary into docs/results/<experiment>/.
Re-running resumes unfinished runs from their checkpoints and skips finished ones.

    python benchmarks/reproduce.py coordination navigation15 grid4x4 --docs
    python benchmarks/reproduce.py coordination --out /tmp/runs --steps 600 --seeds 0   # a quick look
"""

import argparse
import json
import pathlib
import shutil
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from _env_info import environment_record  # noqa: E402
from keras_ip.experiments import ExperimentSpec, run_experiment  # noqa: E402

HERE = pathlib.Path(__file__).resolve().parent
SPECS = {path.stem: path for path in sorted((HERE / "experiments").glob("*.json"))}
DOCS = HERE.parent / "docs" / "results"


def run(name: str, out, steps, seeds, docs: bool) -> list:
    spec = ExperimentSpec.from_json(SPECS[name])
    spec.out = str(pathlib.Path(out) / name) if out else spec.out
    if steps is not None:
        spec.steps = steps
    if seeds is not None:
        spec.seeds = list(seeds)
    spec.validate()
    start = time.perf_counter()
    rows = run_experiment(spec, verbose=False)
    minutes = (time.perf_counter() - start) / 60
    if docs:
        target = DOCS / name
        target.mkdir(parents=True, exist_ok=True)
        for path in pathlib.Path(spec.out).glob("*.png"):
            shutil.copy(path, target / path.name)
        for summary in ("summary.csv", "summary.json"):
            shutil.copy(pathlib.Path(spec.out) / summary, target / summary)
    return [{"experiment": name, "budget_steps": spec.steps, "seed_list": spec.seeds, "wall_minutes": round(minutes, 1), **row}
            for row in rows]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("experiments", nargs="+", choices=sorted(SPECS))
    parser.add_argument("--out", help="parent directory of the experiments' outputs (default: each spec's out)")
    parser.add_argument("--steps", type=int, help="override the spec's step budget")
    parser.add_argument("--seeds", type=int, nargs="+", help="override the spec's seeds")
    parser.add_argument("--docs", action="store_true", help="copy curves and summaries into docs/results/")
    args = parser.parse_args(argv)
    for name in args.experiments:
        for row in run(name, args.out, args.steps, args.seeds, args.docs):
            print(json.dumps(row), flush=True)
    print(json.dumps(environment_record()), flush=True)


if __name__ == "__main__":
    main()
