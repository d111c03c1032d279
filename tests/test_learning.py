"""Short learning checks (the long, multi-seed version is benchmarks/coordination.py)."""

import numpy as np

import keras_ip

DEMO_SETTINGS = dict(units=64, batch_size=256, learning_starts=256)


def test_intention_propagation_solves_the_coordination_game():
    """Paper figure 7: on the 3 x 3 game (optimum 0, random policy -6) IP reaches >= -0.5."""
    agent = keras_ip.IPAgent("coordination", propagation="mean_field", seed=0, **DEMO_SETTINGS)
    assert agent.evaluate(50, deterministic=False, seed=1) < -3.0  # untrained: about -6
    agent.fit(1000, progress_bar=False)  # seeds 0-2 reach 0 by about step 500 (benchmarks/coordination.py)
    assert agent.evaluate(100, deterministic=False, seed=1) >= -0.5
    assert agent.evaluate(10) >= -0.5


def test_continuous_coordination_game_learns_with_the_gaussian_head():
    """Actions in [-1, 1]: a uniform random policy scores about -8 on the 3 x 3 grid."""
    agent = keras_ip.IPAgent("coordination", env_kwargs={"continuous": True}, seed=0, **DEMO_SETTINGS)
    agent.fit(1500, progress_bar=False)
    actions = agent.predict(np.ones((9, 1), np.float32))
    assert actions.shape == (9, 1) and np.all(np.abs(actions) <= 1.0)
    assert agent.evaluate(5) >= -0.5
    assert agent.evaluate(50, deterministic=False, seed=1) >= -3.0
