"""IQLAgent, independent double-Q learning: its loss against numbers worked by hand, Q_i that
reads o_i alone (on any graph), fits with save -> load, groups with different action counts,
and the errors it raises."""

import numpy as np
import pytest
import tensorflow as tf

from keras_ip.baselines.config import IQLConfig
from keras_ip.baselines.iql import IQLAgent, double_q_value, iql_loss
from keras_ip.baselines.networks import IndependentQNetwork
from keras_ip.graphs import graph_tensor
from keras_ip.networks import INVALID_SCORE
from keras_ip.replay import Batch
from tests.test_group_policies import RUNNER_ACTIONS, HuntersAndRunners, runner_rows

TINY = dict(units=8, batch_size=16, learning_starts=8, train_freq=4, gradient_steps=1, buffer_size=200, seed=0,
            jit_compile=False)
COORDINATION = {"rows": 2, "cols": 2}
# env, its make_env kwargs (None: an environment object, passed again to load)
ENVS = {"coordination": ("coordination", COORDINATION),
        "heterogeneous_navigation": ("heterogeneous_navigation", {"n": 4, "max_cycles": 5}),
        "hunters_and_runners": (HuntersAndRunners, None)}


def make(cls, env_name, **overrides):
    env, env_kwargs = ENVS[env_name]
    if env_kwargs is None:
        return cls(env(), **dict(TINY, **overrides))
    return cls(env, env_kwargs=env_kwargs, **dict(TINY, **overrides))


def set_constant_q(network, q_values):
    """Makes the agent Q network output q_values [A] for every agent: Q head kernel 0, bias q_values."""
    network.q_head.kernel.assign(tf.zeros_like(network.q_head.kernel))
    network.q_head.bias.assign(np.asarray(q_values, np.float32))


def coordination_batch(actions, rewards, dones):
    """A Batch of B joint transitions of the 2 x 2 coordination game (every observation 1)."""
    actions, rewards, dones = (np.asarray(a) for a in (actions, rewards, dones))
    observations = np.ones(actions.shape + (1,), np.float32)
    return Batch(observations, actions.astype(np.int32), rewards.astype(np.float32), observations,
                 dones.astype(np.float32), None, None, None, None)


def test_init_signature_matches_config(signature_matches_config):
    assert signature_matches_config(IQLAgent)


def test_double_q_value_and_loss_by_hand():
    """The online network picks the next action, the target network values it."""
    next_q = tf.constant([[1.0, 3.0], [2.0, 0.0], [0.0, 1.0]])
    next_q_target = tf.constant([[10.0, 20.0], [30.0, 40.0], [7.0, -7.0]])
    np.testing.assert_allclose(double_q_value(next_q, next_q_target), [20.0, 30.0, -7.0])  # max would give 40, 7
    q_taken = tf.constant([1.0, 2.0, 3.0])
    rewards, dones, weights = tf.constant([1.0, -1.0, 0.5]), tf.constant([0.0, 1.0, 0.0]), tf.constant([1.0, 1.0, 0.0])
    y = np.array([1.0 + 0.5 * 20.0, -1.0, 0.5 + 0.5 * -7.0])
    errors = (np.array([1.0, 2.0, 3.0]) - y) ** 2
    np.testing.assert_allclose(iql_loss(q_taken, rewards, dones, next_q, next_q_target, 0.5), errors.mean(), rtol=1e-6)
    np.testing.assert_allclose(iql_loss(q_taken, rewards, dones, next_q, next_q_target, 0.5, weights),
                               errors[:2].mean(), rtol=1e-6)


def test_learner_loss_on_constant_networks_by_hand():
    """Q = (1, 2) online and (5, -1) target for every agent: y_i = r_i + gamma (1 - done_i) (-1)."""
    agent = IQLAgent("coordination", env_kwargs=COORDINATION, **dict(TINY, gamma=0.9))
    online, target = agent.networks
    set_constant_q(online, [1.0, 2.0])
    set_constant_q(target, [5.0, -1.0])
    actions = [[0, 1, 1, 0], [1, 1, 0, 0]]
    rewards = [[-1.0, 0.0, -0.5, -2.0], [0.0, 0.0, -1.0, -1.0]]
    dones = [[0, 0, 0, 0], [1, 1, 1, 1]]
    loss, metrics = agent.learner.loss(coordination_batch(actions, rewards, dones))
    q_taken = np.array([1.0, 2.0])[np.array(actions)]
    y = np.array(rewards) + 0.9 * (1 - np.array(dones)) * -1.0
    np.testing.assert_allclose(float(loss), np.mean((q_taken - y) ** 2), rtol=1e-6)
    np.testing.assert_allclose(float(metrics["q"]), q_taken.mean(), rtol=1e-6)


@pytest.mark.parametrize("graph", ["none", "grid"])
def test_q_of_agent_0_ignores_its_neighbours_observation(graph):
    """Agent 1 is agent 0's neighbour on the 2 x 2 grid: changing what it observes leaves Q_0 as it was."""
    agent = IQLAgent("coordination", env_kwargs=COORDINATION, graph=graph, **TINY)
    network = agent.networks[0]
    observations = np.random.default_rng(0).normal(size=(4, 1)).astype(np.float32)
    before = network(graph_tensor(observations, agent.graph)).numpy()
    observations[1] += 5.0
    after = network(graph_tensor(observations, agent.graph)).numpy()
    np.testing.assert_array_equal(after[[0, 2, 3]], before[[0, 2, 3]])
    assert not np.allclose(after[1], before[1])  # agent 1's own Q does follow its observation


def test_the_default_graph_has_no_edges():
    assert IQLConfig().graph == "none"
    assert IQLAgent("coordination", env_kwargs=COORDINATION, **TINY).graph.num_edges == 0


def test_network_config_round_trips():
    network = IndependentQNetwork(5, units=8, encoder_layers=2, num_groups=2, group_num_actions=(5, 3))
    copy = IndependentQNetwork.from_config(network.get_config())
    assert copy.get_config() == network.get_config() and copy.action_spec.group_num_actions == (5, 3)


@pytest.mark.parametrize("env_name", sorted(ENVS))
def test_fits_and_round_trips(env_name, tmp_path):
    agent = make(IQLAgent, env_name).fit(40, progress_bar=False)
    assert agent.num_updates > 0 and np.isfinite(agent.logger.latest()["train/q_loss"])
    assert agent.learner.train_step.experimental_get_tracing_count() == 1
    env = ENVS[env_name][0]
    loaded = IQLAgent.load(agent.save(tmp_path / "iql"), env=None if ENVS[env_name][1] is not None else env())
    observations = np.random.default_rng(0).normal(size=(8, agent.adapter.num_agents, agent.adapter.obs_dim))
    np.testing.assert_array_equal(loaded.predict(observations.astype(np.float32)),
                                  agent.predict(observations.astype(np.float32)))


def test_actions_a_group_lacks_are_masked():
    """Runners have 3 of the hunters' 5 actions: their Q of actions 3 and 4 is INVALID_SCORE, never chosen."""
    agent = make(IQLAgent, "hunters_and_runners")
    observations = np.random.default_rng(0).normal(size=(5, agent.adapter.obs_dim)).astype(np.float32)
    q = agent.networks[0](agent.learner.graph_tensor(observations[None])).numpy()
    runners = runner_rows(agent)
    assert np.all(q[runners, RUNNER_ACTIONS:] == INVALID_SCORE) and np.all(q[~runners] > INVALID_SCORE / 2)
    samples = agent.predict(np.repeat(observations[None], 200, axis=0), deterministic=False)  # epsilon = 1
    assert samples[:, runners].max() == RUNNER_ACTIONS - 1 and samples[:, ~runners].max() == 4


def test_acts_greedily_on_its_q_network_or_epsilon_greedily():
    """Q = (1, 2) everywhere: deterministic predict plays action 1; at step 0 (epsilon 1) both actions."""
    agent = IQLAgent("coordination", env_kwargs=COORDINATION, **TINY)
    set_constant_q(agent.networks[0], [1.0, 2.0])
    ones = np.ones((64, 4, 1), np.float32)
    assert agent.exploration_rate == 1.0 and np.all(agent.predict(ones) == 1)
    assert set(np.unique(agent.predict(ones, deterministic=False))) == {0, 1}


def test_continuous_actions_are_a_clear_error():
    with pytest.raises(ValueError, match=r"IQL needs discrete actions; coordination with continuous=True has Box\("):
        IQLAgent("coordination", env_kwargs={"continuous": True})


@pytest.mark.parametrize("name, value", [("epsilon_end", 1.5), ("exploration_steps", 0), ("gamma", 2.0)])
def test_invalid_argument_is_named(name, value):
    with pytest.raises(ValueError, match=f"Received: {name}={value!r}"):
        IQLAgent("coordination", env_kwargs=COORDINATION, **dict(TINY, **{name: value}))
