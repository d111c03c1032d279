"""DGNAgent and MFQAgent: config/signature, training, falling loss, save/load, Checkpoint,
the continuous-action error, k-NN graphs, target updates and export."""

import dataclasses
import inspect
import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from keras_ip import IPAgent, IPConfig
from keras_ip.baselines import DGNAgent, DGNConfig, DGNLearner, MFQAgent, MFQConfig
from keras_ip.baselines.config import SHARED_FIELDS
from keras_ip.callbacks import Checkpoint
from keras_ip.graphs import KNN, knn

AGENTS = [DGNAgent, MFQAgent]
TINY = dict(units=16, batch_size=32, learning_starts=16, train_freq=4, gradient_steps=1, buffer_size=500, seed=0,
            jit_compile=False, env_kwargs={"rows": 2, "cols": 2})
NAVIGATION = dict(units=16, batch_size=16, learning_starts=8, train_freq=4, gradient_steps=1, buffer_size=200,
                  seed=0, jit_compile=False, env_kwargs={"n": 4, "max_cycles": 5})


@pytest.fixture(scope="module")
def fitted():
    """One tiny agent of each class trained for 300 steps on the 2x2 coordination game (shared: never fit them)."""
    return {cls: cls("coordination", **TINY).fit(300, progress_bar=False) for cls in AGENTS}


def weights(agent):
    return [v.numpy() for network in agent.networks for v in network.variables]


# ----------------------------------------------------------------------------- config
@pytest.mark.parametrize("cls", AGENTS)
def test_init_signature_matches_config(cls, signature_matches_config):
    assert signature_matches_config(cls)


@pytest.mark.parametrize("config_class", [DGNConfig, MFQConfig])
def test_shared_fields_have_ipconfig_defaults(config_class):
    defaults = config_class()
    assert all(getattr(defaults, name) == getattr(IPConfig(), name) for name in SHARED_FIELDS)
    assert set(SHARED_FIELDS) <= {field.name for field in dataclasses.fields(config_class)}


@pytest.mark.parametrize("cls, name, value", [(DGNAgent, "heads", 0), (DGNAgent, "epsilon_end", 1.5),
                                              (DGNAgent, "temporal_coefficient", -1.0), (MFQAgent, "temperature", 0),
                                              (MFQAgent, "gamma", 2.0), (MFQAgent, "target_update_interval", 0)])
def test_invalid_argument_is_named(cls, name, value):
    with pytest.raises(ValueError, match=f"Received: {name}={value!r}"):
        cls("coordination", **dict(TINY, **{name: value}))


# ----------------------------------------------------------------------------- training
@pytest.mark.parametrize("cls, metrics", [(DGNAgent, ("q_loss", "q")), (MFQAgent, ("q_loss", "q", "next_value"))])
def test_fit_on_the_coordination_game(fitted, cls, metrics):
    agent = fitted[cls]
    assert agent.num_timesteps == 300 and agent.num_updates == 72  # after steps 16, 20, ..., 300
    assert agent.learner.train_step.experimental_get_tracing_count() == 1  # no retracing after warm-up
    record = agent.logger.history[-1]
    assert record["time/episodes"] == 300 and np.isfinite(record["rollout/ep_team_return_mean"])
    assert all(np.isfinite(record[f"train/{name}"]) for name in metrics)
    assert agent.predict(np.ones((4, 1), np.float32)).shape == (4,)
    assert agent.evaluate(episodes=2) <= 0.0


@pytest.mark.parametrize("cls, options", [(DGNAgent, {"temporal_coefficient": 0.0}), (DGNAgent, {}),
                                          (MFQAgent, {"mean_field_iterations": 2})])
def test_loss_falls_on_a_fixed_batch(cls, options):
    env_kwargs = {"rows": 3, "cols": 3}
    agent = cls("coordination", **dict(TINY, env_kwargs=env_kwargs, learning_starts=64, **options)).fit(
        64, progress_bar=False)
    batch = agent.replay.sample(32, np.random.default_rng(0))
    losses = [float(agent.learner.train_step(batch)["q_loss"]) for _ in range(60)]
    assert losses[-1] < 0.75 * losses[0], losses[::10]
    if cls is DGNAgent and options.get("temporal_coefficient", DGNConfig.temporal_coefficient):
        assert np.isfinite(float(agent.learner.train_step(batch)["relation_kl"]))


def test_dgn_defaults_to_the_papers_temporal_relation_regularisation():
    """Jiang et al. 2020 use lambda = 0.03: by default the loss is q_loss + 0.03 * relation_kl."""
    assert DGNConfig().temporal_coefficient == 0.03
    assert inspect.signature(DGNLearner).parameters["temporal_coefficient"].default == 0.03
    agent = DGNAgent("coordination", **TINY).fit(16, progress_bar=False)
    assert agent.get_params()["temporal_coefficient"] == agent.learner.temporal_coefficient == 0.03
    loss, metrics = agent.learner.loss(agent.replay.sample(8, np.random.default_rng(0)))
    assert float(loss) == pytest.approx(float(metrics["q_loss"]) + 0.03 * float(metrics["relation_kl"]))


def test_dgn_exploration_decays_linearly_and_deterministic_predict_is_greedy():
    agent = DGNAgent("coordination", **dict(TINY, epsilon_start=1.0, epsilon_end=0.1, exploration_steps=100))
    assert agent.exploration_rate == 1.0
    agent.fit(50, progress_bar=False)
    assert agent.exploration_rate == pytest.approx(0.55)
    ones = np.ones((4, 1), np.float32)
    q = agent.networks[0](agent.learner.graph_tensor(ones[None])).numpy()
    np.testing.assert_array_equal(agent.predict(ones), np.argmax(q, axis=-1))


def test_target_update_interval_with_tau_one_is_a_periodic_copy():
    agent = MFQAgent("coordination", **dict(TINY, tau=1.0, target_update_interval=2, learning_starts=64))
    agent.fit(32, progress_bar=False)
    assert agent.num_updates == 0
    batch = agent.replay.sample(8)
    network, target = agent.networks
    agent.learner.train_step(batch)  # update 1: the target keeps its weights
    assert any(not np.array_equal(a, b) for a, b in zip(network.get_weights(), target.get_weights()))
    agent.learner.train_step(batch)  # update 2: copied
    assert all(np.array_equal(a, b) for a, b in zip(network.get_weights(), target.get_weights()))


# ----------------------------------------------------------------------------- errors
@pytest.mark.parametrize("cls, name", [(DGNAgent, "DGN"), (MFQAgent, "MFQ")])
def test_continuous_actions_are_a_clear_error(cls, name):
    with pytest.raises(ValueError, match=f"{name} needs discrete actions; cooperative_navigation with "
                                         r"continuous=True has Box\("):
        cls("cooperative_navigation", env_kwargs={"continuous": True})


def test_loading_with_the_wrong_class_is_a_clear_error(fitted, tmp_path):
    path = fitted[DGNAgent].save(tmp_path / "dgn")
    with pytest.raises(ValueError, match="holds a saved DGNAgent; load it with DGNAgent.load"):
        MFQAgent.load(path)
    with pytest.raises(ValueError, match="holds a saved DGNAgent"):
        IPAgent.load(path)


# ----------------------------------------------------------------------------- save / load
@pytest.mark.parametrize("cls", AGENTS)
def test_save_load_round_trip(fitted, cls, tmp_path):
    agent = fitted[cls]
    loaded = cls.load(agent.save(tmp_path / "agent", include_replay=True))
    assert (loaded.num_timesteps, loaded.num_updates) == (agent.num_timesteps, agent.num_updates)
    assert json.loads((tmp_path / "agent" / "config.json").read_text())["algorithm"] == cls.__name__
    assert loaded.get_params() == agent.get_params()
    for saved, restored in zip(weights(agent), weights(loaded)):
        np.testing.assert_array_equal(saved, restored)
    optimizer = loaded.learner.optimizer
    assert optimizer.iterations.numpy() == agent.num_updates == int(loaded.learner.updates.numpy())
    observations = np.random.default_rng(0).normal(size=(16, 4, 1)).astype(np.float32)
    np.testing.assert_array_equal(loaded.predict(observations), agent.predict(observations))
    assert len(loaded.replay) == len(agent.replay)
    loaded.fit(8, progress_bar=False)
    assert loaded.num_timesteps == 308 and loaded.num_updates == 74


@pytest.mark.parametrize("cls", AGENTS)
def test_checkpoint_callback_resumes(cls, tmp_path):
    agent = cls("coordination", **TINY)
    agent.fit(40, callbacks=Checkpoint(tmp_path / "run", every=20), progress_bar=False)
    resumed = cls.load(tmp_path / "run")
    assert resumed.num_timesteps == 40 and len(resumed.replay) > 0
    ones = np.ones((4, 1), np.float32)
    np.testing.assert_array_equal(resumed.predict(ones), agent.predict(ones))


# ----------------------------------------------------------------------------- dynamic graphs
@pytest.mark.parametrize("cls, options", [(DGNAgent, {"temporal_coefficient": 0.03}), (MFQAgent, {})])
def test_knn_graphs_on_cooperative_navigation(cls, options, tmp_path):
    agent = cls("cooperative_navigation", graph="knn", k=2, **dict(NAVIGATION, **options)).fit(24, progress_bar=False)
    assert agent.graph_schedule == KNN(2, 1) and agent.num_updates == 5  # after steps 8, 12, ..., 24
    assert np.isfinite(agent.logger.latest()["train/q_loss"])
    assert np.isfinite(agent.evaluate(episodes=1))
    obs = np.random.default_rng(0).random((4, agent.adapter.obs_dim)).astype(np.float32)
    graph = knn(np.random.default_rng(1).random((4, 2)), 2, symmetric=False)
    loaded = cls.load(agent.save(tmp_path / "knn"))
    np.testing.assert_array_equal(loaded.predict(obs, graph=graph), agent.predict(obs, graph=graph))


# ----------------------------------------------------------------------------- export
def test_exports_serve_the_greedy_actions_in_a_fresh_process(fitted, tmp_path):
    observations = np.random.default_rng(0).normal(size=(4, 1)).astype(np.float32)
    expected = {}
    for cls, agent in fitted.items():
        agent.export(tmp_path / cls.__name__)
        expected[cls.__name__] = agent.predict(observations).tolist()
    graph = fitted[DGNAgent].graph
    script = textwrap.dedent(f"""
        import json, sys
        import numpy as np, tensorflow as tf
        observations = np.array({observations.tolist()}, np.float32)
        actions = {{}}
        for name in {sorted(expected)}:
            serve = tf.saved_model.load(sys.argv[1] + "/" + name).signatures["serving_default"]
            out = serve(observations=observations, senders=tf.constant({graph.senders.tolist()}, tf.int32),
                        receivers=tf.constant({graph.receivers.tolist()}, tf.int32))
            actions[name] = out["actions"].numpy().tolist()
        print(json.dumps(actions))
    """)
    result = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, check=True)
    assert json.loads(result.stdout.strip().splitlines()[-1]) == expected
