"""keras-ip: Intention Propagation multi-agent RL on TensorFlow / TF-GNN."""

import pathlib

from setuptools import find_packages, setup

HERE = pathlib.Path(__file__).parent
REQUIREMENTS = [line.strip() for line in (HERE / "requirements.txt").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
ENVS = [r for r in REQUIREMENTS if r.startswith(("mpe2", "magent2"))]
TRAFFIC = [r for r in REQUIREMENTS if r.startswith(("eclipse-sumo", "libsumo", "sumolib", "traci", "sumo-rl"))]
DOCS = [r for r in REQUIREMENTS if r.startswith(("nbclient", "nbformat", "ipykernel", "mkdocs"))]
BENCHMARK = [r for r in REQUIREMENTS if r.startswith(("rliable", "arch", "pandas"))]
DISTRIBUTED = [r for r in REQUIREMENTS if r.startswith("ray")]
TEST = [r for r in REQUIREMENTS if r.startswith("pytest")] + ENVS + TRAFFIC + BENCHMARK + DISTRIBUTED + DOCS
RUNTIME = [r for r in REQUIREMENTS if r not in TEST]

setup(
    name="keras-ip",
    version="0.1.0",
    description="Intention Propagation: graph-structured joint policies for cooperative multi-agent RL",
    long_description=(HERE / "README.md").read_text(),
    long_description_content_type="text/markdown",
    packages=find_packages(include=["keras_ip", "keras_ip.*"]),
    python_requires=">=3.10",
    install_requires=RUNTIME,
    extras_require={"envs": ENVS, "traffic": TRAFFIC, "benchmark": BENCHMARK, "distributed": DISTRIBUTED, "docs": DOCS,
                    "test": TEST},
    entry_points={"console_scripts": ["keras-ip = keras_ip.cli:main"]},
    license="Apache-2.0",
)
