"""IPAgent on the traffic environment: the road graph, a short fit, metrics from evaluate."""

import numpy as np

from keras_ip.envs.traffic import TrafficSignalEnv
from keras_ip.graphs import grid


def test_fit_a_few_hundred_steps_and_evaluate_with_metrics(make_agent):
    env = TrafficSignalEnv(grid=2, max_cycles=60)
    try:
        agent = make_agent(env, graph="grid", learning_starts=64, buffer_size=1000)
        assert agent.graph == grid(2, 2)  # the road graph of the generated 2 x 2 grid
        agent.fit(steps=240, progress_bar=False)
        assert agent.num_timesteps == 240 and agent.num_updates > 0
        metrics = agent.evaluate(episodes=1, seed=0, metrics=True)
        assert set(metrics) == {"team_return", "arrived", "trip_time", "delay", "queue_length"}
        assert np.isfinite(list(metrics.values())).all() and metrics["arrived"] > 0
    finally:
        env.close()
