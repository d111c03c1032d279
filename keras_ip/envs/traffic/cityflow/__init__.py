"""Traffic-signal control on CityFlow: `make_env("traffic", backend="cityflow", scenario="hangzhou_4x4")`.

CityFlow (the simulator of the paper's traffic experiments and of most traffic-signal papers
on the public Hangzhou, Jinan and New York datasets) is not on PyPI: see docs/traffic.md for
how to build it. Everything here but the engine itself (`simulation.py`) works without it.
"""

from keras_ip._checks import check_int
from keras_ip.envs.traffic.cityflow.datasets import DATASETS, CityFlowDataset, dataset_scenario
from keras_ip.envs.traffic.cityflow.grid import grid_flow, grid_roadnet, grid_scenario
from keras_ip.envs.traffic.cityflow.network import CityFlowNetwork, read_roadnet
from keras_ip.envs.traffic.cityflow.scenario import CityFlowScenario
from keras_ip.envs.traffic.cityflow.simulation import CityFlowSimulation, import_cityflow


def open_cityflow(scenario, grid, route_seed: int, grid_options, flow, data_dir, threads: int,
                  green_phases=None) -> tuple:
    """(CityFlowScenario, `SignalNetwork`, `CityFlowSimulation`) for `TrafficSignalEnv(backend="cityflow", ...)`.

    Args:
      scenario: a dataset name (`datasets.DATASETS`) or a `CityFlowScenario`, or None with grid.
      grid: n for a generated n x n grid (`grid.grid_scenario`), or None with scenario.
      route_seed: the generated grid's flow seed.
      grid_options: more keyword arguments of `grid_scenario`.
      flow: the dataset's flow variant (None: "real"); only with a dataset name.
      data_dir: the datasets' folder (None: $KERAS_IP_CITYFLOW_DATA, else the download cache).
      threads: the engine's threads, >= 1.
      green_phases: the CityFlow phase indices the agents choose among (`read_roadnet`).
    """
    check_int("threads", threads)
    if (flow is not None or data_dir is not None) and not isinstance(scenario, str):
        raise ValueError(f"flow and data_dir choose a named CityFlow dataset; pass scenario=<name>. Received: "
                         f"scenario={scenario!r}, grid={grid!r}, flow={flow!r}, data_dir={data_dir!r}")
    if grid is not None:
        chosen = grid_scenario(grid, seed=route_seed, **(grid_options or {}))
    elif isinstance(scenario, CityFlowScenario):
        chosen = scenario
    elif isinstance(scenario, str):
        chosen = dataset_scenario(scenario, flow=flow or "real", data_dir=data_dir)
    else:
        raise TypeError(f"scenario must be a CityFlow dataset name or a CityFlowScenario. Received: scenario={scenario!r}")
    network = read_roadnet(chosen.roadnet_file, green_phases)
    return chosen, network.signals, CityFlowSimulation(chosen, network, threads)


__all__ = ["DATASETS", "CityFlowDataset", "CityFlowNetwork", "CityFlowScenario", "CityFlowSimulation",
           "dataset_scenario", "grid_flow", "grid_roadnet", "grid_scenario", "import_cityflow", "open_cityflow",
           "read_roadnet"]
