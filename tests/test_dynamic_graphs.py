"""graph="knn": graphs rebuilt from agent positions, stored per transition, used to act."""

import numpy as np
import pytest

from keras_ip import IPAgent
from keras_ip.graphs import KNN, knn

TINY = dict(units=16, batch_size=16, learning_starts=8, train_freq=4, gradient_steps=1, buffer_size=200,
            jit_compile=False, seed=0)
JUNGLE = {"map_size": 10, "n_agents": 6, "n_foods": 3, "max_cycles": 5}


def make_agent(**kwargs):
    return IPAgent("jungle", env_kwargs=JUNGLE, **dict(TINY, **kwargs))


def test_knn_graph_is_rebuilt_from_positions_and_stored_with_each_transition():
    agent = make_agent(graph="knn", k=2).fit(30, progress_bar=False)
    assert agent.graph_schedule == KNN(2, 1) and agent.num_updates > 0
    positions = agent.env.unwrapped.agent_positions()
    assert agent.graph is None  # the static graph; there is none
    state = agent.replay.state_dict()
    latest = knn(positions, 2, symmetric=False)  # stored with the latest observation
    np.testing.assert_array_equal(state["senders"][state["filled"] - 1], latest.senders)
    batch = agent.replay.sample(64)
    assert batch.senders.shape == (64, 12) and batch.next_senders.shape == (64, 12)
    receivers = np.repeat(np.arange(6), 2)
    np.testing.assert_array_equal(batch.receivers, np.broadcast_to(receivers, (64, 12)))
    assert len({row.tobytes() for row in batch.senders}) > 1  # agents moved: graphs differ across steps


def test_graph_every_n_steps_keeps_the_graph_between_rebuilds():
    agent = make_agent(graph=KNN(k=2, every=5), learning_starts=100).fit(5, progress_bar=False)
    state = agent.replay.state_dict()
    senders = state["senders"][:5]  # one episode of 5 steps: graphs of observations 0..4
    assert all(np.array_equal(senders[0], row) for row in senders)


def test_predict_needs_a_graph_and_uses_it():
    agent = make_agent(graph="knn", k=2).fit(10, progress_bar=False)
    obs = np.zeros((6, agent.adapter.obs_dim), np.float32)
    with pytest.raises(ValueError, match="pass env="):
        agent.predict(obs)
    graph = knn(np.arange(12.0).reshape(6, 2), 2, symmetric=False)
    assert agent.predict(obs, graph=graph).shape == (6,)
    with pytest.raises(ValueError, match="over 6 agents"):
        agent.predict(obs, graph=knn(np.arange(8.0).reshape(4, 2), 2))


def test_evaluate_and_save_load_with_a_dynamic_graph(tmp_path):
    agent = make_agent(graph="knn", k=3, every=2).fit(12, progress_bar=False)
    assert np.isfinite(agent.evaluate(2))
    loaded = IPAgent.load(agent.save(tmp_path / "knn"))
    assert loaded.graph_schedule == KNN(3, 2) and loaded.get_params()["graph"] == "knn"
    obs = np.random.default_rng(0).random((6, agent.adapter.obs_dim)).astype(np.float32)
    graph = knn(np.random.default_rng(1).random((6, 2)), 3, symmetric=False)
    np.testing.assert_array_equal(loaded.predict(obs, graph=graph), agent.predict(obs, graph=graph))
    loaded.fit(4, progress_bar=False)
    assert loaded.num_timesteps == 16


def test_knn_without_positions_is_a_clear_error():
    agent = IPAgent("coordination", graph="knn", **TINY)
    with pytest.raises(ValueError, match="needs agent positions"):
        agent.fit(2, progress_bar=False)


@pytest.mark.parametrize("propagation", ["mean_field", "loopy_bp"])
def test_xla_update_on_replayed_directed_graphs_does_not_retrace(propagation):
    agent = make_agent(graph="knn", k=2, jit_compile=True, propagation=propagation).fit(40, progress_bar=False)
    assert agent.learner.train_step.experimental_get_tracing_count() == 1


def test_evaluate_can_return_the_environment_metrics():
    agent = IPAgent("cooperative_navigation", env_kwargs={"n": 4, "max_cycles": 5}, graph="knn", k=2,
                    **dict(TINY, learning_starts=100))
    result = agent.evaluate(3, seed=0, metrics=True)
    assert set(result) == {"team_return", "team_reward", "coverage"}
    assert result["team_return"] == pytest.approx(agent.evaluate(3, seed=0))
    assert result["coverage"] < 0
