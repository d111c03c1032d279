"""Traffic-signal control on SUMO: `make_env("traffic", scenario="grid4x4")` or `make_env("traffic", grid=n)`.

Needs the `traffic` extra (`pip install "keras-ip[traffic]"`: eclipse-sumo, libsumo, sumolib,
traci and sumo-rl for the RESCO networks). See docs/traffic.md.
"""

from keras_ip.envs.traffic.controllers import (FixedTimeController, GreedyController, MaxPressureController,
                                               evaluate_controller, run_episode)
from keras_ip.envs.traffic.env import TrafficSignalEnv
from keras_ip.envs.traffic.network import SignalNetwork, read_network
from keras_ip.envs.traffic.processes import run_in_processes
from keras_ip.envs.traffic.scenarios import RESCO_SCENARIOS, Scenario
from keras_ip.envs.traffic.sumo_home import sumo_home

__all__ = ["FixedTimeController", "GreedyController", "MaxPressureController", "RESCO_SCENARIOS", "Scenario",
           "SignalNetwork", "TrafficSignalEnv", "evaluate_controller", "read_network", "run_episode", "run_in_processes",
           "sumo_home"]
