"""IPAgent: config/signature, fit, predict, evaluate, save/load, params, argument checks, graphs."""

import dataclasses
import inspect
import json

import numpy as np
import pytest

from keras_ip import IPAgent, IPConfig
from keras_ip.config import FIELD_NAMES
from keras_ip.envs import CoordinationGame
from keras_ip.envs.coordination import coordination_rewards
from keras_ip.graphs import Graph, from_edges, full

OPTIMIZERS = ("actor_optimizer", "critic_optimizer", "value_optimizer", "alpha_optimizer")
ONES = np.ones((4, 1), np.float32)  # the coordination game's only joint observation, 2x2 grid


def assert_all_equal(first, second):
    assert len(first) == len(second)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)


# ----------------------------------------------------------------------------- config
def test_init_signature_matches_config(signature_matches_config):
    assert signature_matches_config(IPAgent, extra=("strategy",))
    parameters = inspect.signature(IPAgent.__init__).parameters
    hyperparameters = {name: p.default for name, p in parameters.items()
                       if name not in ("self", "env", "env_kwargs", "strategy", "train_groups", "fixed_policies")}
    assert hyperparameters == {field.name: field.default for field in dataclasses.fields(IPConfig)}


# ----------------------------------------------------------------------------- fit
@pytest.mark.parametrize("kwargs", [{}, {"propagation": "loopy_bp"}, {"propagation": "none"},
                                    {"env_kwargs": {"continuous": True}}],
                         ids=["mean_field", "loopy_bp", "none", "continuous"])
def test_fit_smoke(fitted, kwargs):
    agent = fitted(**kwargs)
    assert agent.num_timesteps == fitted.steps == 64
    assert agent.num_updates == 13  # after steps 16, 20, ..., 64 (learning_starts=16, train_freq=4)
    record = agent.logger.history[-1]
    assert record["time/total_timesteps"] == 64
    for key in ("train/critic_loss", "train/value_loss", "train/policy_loss"):
        assert np.isfinite(record[key]), key


def test_fit_returns_self_and_continues(make_agent):
    agent = make_agent()
    assert agent.fit(32, progress_bar=False) is agent
    agent.fit(32, progress_bar=False)
    assert agent.num_timesteps == 64
    assert agent.num_updates == 13


@pytest.mark.parametrize("steps", [0, -1, 2.0, True])
def test_fit_rejects_bad_steps(make_agent, steps):
    with pytest.raises(ValueError, match="steps="):
        make_agent().fit(steps)


def test_train_step_does_not_retrace_after_warm_up(make_agent):
    agent = make_agent(jit_compile=True).fit(32, progress_bar=False)
    assert agent.learner.train_step.experimental_get_tracing_count() == 1
    agent.fit(32, progress_bar=False).fit(32, progress_bar=False)
    assert agent.learner.train_step.experimental_get_tracing_count() == 1
    assert agent.num_updates == 21


def test_same_seed_same_fit_gives_identical_agents(fitted, make_agent, weights_of, random_observations):
    first = fitted()
    second = make_agent().fit(first.num_timesteps, progress_bar=False)
    assert_all_equal(weights_of(first), weights_of(second))
    observations = random_observations(first, 16)
    np.testing.assert_array_equal(first.predict(observations), second.predict(observations))
    assert first.logger.latest() == second.logger.latest()


def test_seed_determines_initial_weights(make_agent, weights_of):
    weights = weights_of(make_agent(seed=0))
    assert_all_equal(weights, weights_of(make_agent(seed=0)))
    assert any(not np.array_equal(a, b) for a, b in zip(weights, weights_of(make_agent(seed=1))))


# ----------------------------------------------------------------------------- predict / evaluate
def test_predict_discrete_shapes(fitted, random_observations):
    agent = fitted()
    actions = agent.predict(ONES)
    assert actions.shape == (4,) and actions.dtype == np.int32
    assert set(actions.tolist()) <= {0, 1}
    observations = random_observations(agent, 5)
    batched = agent.predict(observations)
    assert batched.shape == (5, 4) and batched.dtype == np.int32
    np.testing.assert_array_equal(batched[2], agent.predict(observations[2]))


def test_predict_continuous_within_bounds(fitted, random_observations):
    agent = fitted(env_kwargs={"continuous": True})
    actions = agent.predict(ONES)
    assert actions.shape == (4, 1) and actions.dtype == np.float32
    batched = agent.predict(random_observations(agent, 50), deterministic=False)
    assert batched.shape == (50, 4, 1)
    assert np.all(np.abs(batched) <= 1.0)


def test_predict_stochastic_samples_both_actions(fitted):
    agent = fitted()
    observations = np.ones((200, 4, 1), np.float32)
    greedy = agent.predict(observations)
    assert np.all(greedy == greedy[0])  # deterministic: the same state gives the same actions
    sampled = agent.predict(observations, deterministic=False)
    assert sampled.shape == (200, 4)
    assert set(np.unique(sampled).tolist()) == {0, 1}  # entropy is still near log 2 after 13 updates


@pytest.mark.parametrize("observations, message", [
    (np.ones((3, 1)), r"shape \(4, 1\)"),
    (np.ones((4, 2)), r"shape \(4, 1\)"),
    (np.ones((2, 4, 1, 1)), r"shape \(4, 1\)"),
    (np.where(np.arange(4)[:, None] == 2, np.nan, 1.0), "NaN"),
])
def test_predict_rejects_bad_observations(fitted, observations, message):
    with pytest.raises(ValueError, match=message):
        fitted().predict(observations)


def test_evaluate_returns_the_greedy_team_return(fitted):
    agent = fitted()
    expected = coordination_rewards(agent.predict(ONES).astype(float), agent.graph).sum()
    result = agent.evaluate(episodes=3)
    assert isinstance(result, float)
    assert result <= 0.0
    assert result == pytest.approx(expected)


@pytest.mark.parametrize("episodes", [0, -2, 1.5, True])
def test_evaluate_rejects_bad_episodes(fitted, episodes):
    with pytest.raises(ValueError, match="episodes="):
        fitted().evaluate(episodes=episodes)


# ----------------------------------------------------------------------------- save / load
@pytest.fixture
def reloaded(fitted, tmp_path):
    """(agent, IPAgent.load(agent.save(...))) for the shared fitted mean-field agent."""
    agent = fitted()
    return agent, IPAgent.load(agent.save(tmp_path / "agent"))


def test_load_restores_weights_counters_and_predictions(reloaded, weights_of, random_observations):
    agent, loaded = reloaded
    assert (loaded.num_timesteps, loaded.num_updates) == (agent.num_timesteps, agent.num_updates)
    assert_all_equal(weights_of(agent), weights_of(loaded))
    observations = random_observations(agent, 16)
    np.testing.assert_array_equal(loaded.predict(observations), agent.predict(observations))
    assert loaded.get_params() == agent.get_params()
    assert loaded.replay is None


def test_load_restores_optimizer_state(reloaded):
    agent, loaded = reloaded
    for name in OPTIMIZERS:
        saved, restored = getattr(agent.learner, name), getattr(loaded.learner, name)
        assert_all_equal([v.numpy() for v in saved.variables], [v.numpy() for v in restored.variables])
    actor_optimizer = loaded.learner.actor_optimizer
    assert actor_optimizer.iterations.numpy() == agent.num_updates
    first_moment = actor_optimizer.variables[1]  # m of the first actor kernel
    assert first_moment.name.startswith("m/") and np.any(first_moment.numpy() != 0)


def test_fit_continues_after_load(reloaded):
    agent, loaded = reloaded
    loaded.fit(8, progress_bar=False)
    assert loaded.num_timesteps == agent.num_timesteps + 8
    # saved without its replay: no update until the new buffer holds learning_starts = 16 transitions
    assert len(loaded.replay) == 8 and loaded.num_updates == agent.num_updates
    loaded.fit(8, progress_bar=False)
    assert loaded.num_updates == agent.num_updates + 1  # at step 80, the 16th transition
    assert loaded.learner.actor_optimizer.iterations.numpy() == loaded.num_updates


def test_load_restores_replay_when_saved_with_it(fitted, tmp_path):
    agent = fitted()
    loaded = IPAgent.load(agent.save(tmp_path / "agent", include_replay=True))
    assert len(loaded.replay) == len(agent.replay) > 0
    saved_state, restored_state = agent.replay.state_dict(), loaded.replay.state_dict()
    for name in ("observations", "actions", "rewards", "valid_slots"):
        np.testing.assert_array_equal(restored_state[name], saved_state[name])


def test_load_of_agent_on_env_object_needs_env(make_agent, weights_of, tmp_path):
    agent = make_agent(CoordinationGame(rows=2, cols=2))
    path = agent.save(tmp_path / "agent")
    with pytest.raises(ValueError, match="env="):
        IPAgent.load(path)
    loaded = IPAgent.load(path, env=CoordinationGame(rows=2, cols=2))
    assert loaded.graph == agent.graph
    assert_all_equal(weights_of(agent), weights_of(loaded))


def test_load_keeps_a_random_graph(make_agent, tmp_path):
    agent = make_agent(graph="random", seed=None, env_kwargs={"rows": 3, "cols": 3})
    assert agent.graph != full(9)  # 3 random neighbours of 8: the graph is not fixed by N alone
    loaded = IPAgent.load(agent.save(tmp_path / "agent"))
    assert loaded.graph == agent.graph
    assert loaded.get_params()["graph"] == "random"


def test_load_from_missing_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing"):
        IPAgent.load(tmp_path / "nothing")


def test_load_of_an_older_save_format_names_it(fitted, tmp_path):
    path = fitted().save(tmp_path / "agent")
    config_file = tmp_path / "agent" / "config.json"
    state = json.loads(config_file.read_text())
    assert state["keras_ip_format"] == 2
    config_file.write_text(json.dumps(dict(state, keras_ip_format=1)))
    with pytest.raises(ValueError, match="save format 1; this version reads format 2.*degree input"):
        IPAgent.load(path)


def test_saving_twice_leaves_one_save(fitted, make_agent, tmp_path):
    make_agent().save(tmp_path / "agent")
    agent = fitted()
    agent.save(tmp_path / "agent")
    assert [p.name for p in tmp_path.iterdir()] == ["agent"]
    assert IPAgent.load(tmp_path / "agent").num_timesteps == agent.num_timesteps


def test_failed_save_keeps_the_previous_save(fitted, make_agent, tmp_path, monkeypatch):
    fitted().save(tmp_path / "agent")
    agent = make_agent()

    def broken_export(path):
        raise OSError("disk full")

    monkeypatch.setattr(agent, "export", broken_export)
    with pytest.raises(OSError, match="disk full"):
        agent.save(tmp_path / "agent")
    assert [p.name for p in tmp_path.iterdir()] == ["agent"]
    assert IPAgent.load(tmp_path / "agent").num_timesteps == fitted().num_timesteps


# ----------------------------------------------------------------------------- params
def test_get_params_returns_every_config_field(make_agent):
    params = make_agent(units=8, alpha="auto").get_params()
    assert tuple(params) == FIELD_NAMES
    assert (params["units"], params["alpha"], params["seed"], params["gamma"]) == (8, "auto", 0, 0.95)


def test_set_learner_params_keeps_weights(make_agent, weights_of):
    agent = make_agent()
    weights = weights_of(agent)
    assert agent.set_params(learning_rate=0.05, alpha=0.5, gamma=0.9, tau=0.2) is agent
    params = agent.get_params()
    assert (params["learning_rate"], params["alpha"], params["gamma"], params["tau"]) == (0.05, 0.5, 0.9, 0.2)
    for name in OPTIMIZERS:
        assert getattr(agent.learner, name).learning_rate.numpy() == pytest.approx(0.05)
    assert np.exp(agent.learner.log_alpha.numpy()) == pytest.approx(0.5)
    assert (agent.learner.gamma, agent.learner.tau) == (0.9, 0.2)
    assert_all_equal(weights, weights_of(agent))


def test_set_units_rebuilds_the_networks(make_agent, weights_of):
    agent = make_agent()
    assert 16 in {w.shape[-1] for w in weights_of(agent) if w.ndim == 2}  # kernel output widths
    agent.set_params(units=8)
    widths = {w.shape[-1] for w in weights_of(agent) if w.ndim == 2}
    assert 8 in widths and 16 not in widths
    assert agent.predict(ONES).shape == (4,)


def test_aggregation_reaches_every_network(make_agent):
    networks = make_agent(aggregation="sum").networks
    layers = [networks.actor.propagation, networks.critics, networks.value, networks.target_value]
    assert [layer.aggregation for layer in layers] == ["sum"] * 4
    assert make_agent().networks.actor.propagation.aggregation == "mean"
    attentive = make_agent(aggregation="attention").networks  # attention in the policy, averaging critics
    assert attentive.actor.propagation.aggregation == "attention" and attentive.critics.aggregation == "mean"
    assert len(attentive.actor.propagation.attention) == 2


@pytest.mark.parametrize("params, message", [({"bogus": 1}, "bogus"), ({"gamma": 2}, "gamma=2"),
                                             ({"units": 8, "hops": 0}, "hops=0")])
def test_set_params_rejects_bad_values_and_keeps_config(make_agent, params, message):
    agent = make_agent()
    before = agent.get_params()
    with pytest.raises(ValueError, match=message):
        agent.set_params(**params)
    assert agent.get_params() == before
    assert agent.learner.gamma == 0.95


# ----------------------------------------------------------------------------- arguments
@pytest.mark.parametrize("name, value", [("propagation", "x"), ("hops", 0), ("alpha", -1), ("batch_size", 0),
                                         ("aggregation", "max")])
def test_invalid_argument_is_named(make_agent, name, value):
    with pytest.raises(ValueError, match=f"{name}={value!r}"):
        make_agent(**{name: value})


def test_unknown_env_name_lists_known_names():
    with pytest.raises(ValueError, match=r"'nope'.*coordination"):
        IPAgent("nope")


def test_env_kwargs_need_an_env_name():
    with pytest.raises(ValueError, match="env_kwargs"):
        IPAgent(CoordinationGame(rows=2, cols=2), env_kwargs={"rows": 2})


PATH_GRAPH = from_edges(4, [(0, 1), (1, 2), (2, 3)])


@pytest.mark.parametrize("spec, expected", [(full(4), full(4)), (lambda env: PATH_GRAPH, PATH_GRAPH), ("full", full(4)),
                                            ("grid", from_edges(4, [(0, 1), (2, 3), (0, 2), (1, 3)]))],
                         ids=["graph", "callable", "full", "grid"])
def test_graph_argument(make_agent, spec, expected):
    agent = make_agent(graph=spec)
    assert agent.graph == expected


@pytest.mark.parametrize("spec, message", [(Graph(3, np.array([0, 1]), np.array([1, 0])), "3 nodes"),
                                           (lambda env: "grid", "callable"), ("ring", "graph='ring'")])
def test_bad_graph_argument(make_agent, spec, message):
    with pytest.raises(ValueError, match=message):
        make_agent(graph=spec)


def test_n_envs_collects_from_every_copy_with_one_action_call_per_step():
    agent = IPAgent("cooperative_navigation", env_kwargs=dict(n=5, max_cycles=5), graph="knn", k=2, n_envs=4, units=8,
                    batch_size=8, learning_starts=8, train_freq=4, gradient_steps=1, replay_dtype="float16", seed=0)
    agent.fit(steps=40, progress_bar=False)
    assert agent.num_timesteps == 40 and len(agent.replay) == 40
    assert [len(buffer) for buffer in agent.replay.buffers] == [10] * 4
    assert agent.num_updates == 9                      # at steps 8, 12, ..., 40
    assert agent._act_dynamic.experimental_get_tracing_count() == 1
    assert agent.replay.buffers[0].state_dict()["observations"].dtype == np.float16
