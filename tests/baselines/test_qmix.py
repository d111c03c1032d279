"""QMIXAgent: the mixer and the loss against numbers worked by hand, monotonicity in every Q_i,
a pooled state that each sample's agents alone determine in any order, fixed-policy agents
outside the team reward, fits with save -> load, and the errors it raises."""

import numpy as np
import pytest
import tensorflow as tf

from keras_ip.baselines.qmix import (QMixer, QMIXAgent, QMIXNetwork, monotonic_mix, qmix_loss,
                                     team_rewards_and_dones)
from keras_ip.replay import Batch
from tests.baselines.test_iql import COORDINATION, ENVS, TINY, coordination_batch, make, set_constant_q
from tests.test_group_policies import HuntersAndRunners, runner_rows

SMALL_MIXER = dict(mixing_embed_dim=2, hypernet_units=4)


def elu(x):
    return np.where(x > 0, x, np.exp(np.minimum(x, 0)) - 1)


def mix_by_hand(q, w1, b1, w2, v):
    """Q_tot for one sample: q [N], w1 [N, E], b1 [E], w2 [E], v scalar (abs taken here)."""
    return float(np.abs(w2) @ elu(q @ np.abs(w1) + b1) + v)


def set_constant_mixer(mixer, w1, b1, w2, v):
    """Makes the hypernetworks' outputs constants: every last layer's kernel 0, its bias the value."""
    for dense, value in ((mixer.hyper_w1[-1], np.ravel(w1)), (mixer.hyper_w2[-1], w2), (mixer.hyper_b1, b1),
                         (mixer.value[-1], [v])):
        dense.kernel.assign(tf.zeros_like(dense.kernel))
        dense.bias.assign(np.asarray(value, np.float32))


def test_init_signature_matches_config(signature_matches_config):
    assert signature_matches_config(QMIXAgent)


def test_monotonic_mix_by_hand():
    q = np.array([1.0, -2.0])
    w1, b1, w2, v = np.array([[1.0, 0.0], [0.5, 2.0]]), np.array([0.5, -1.0]), np.array([2.0, 1.0]), 0.3
    # hidden = elu([1 - 1 + 0.5, -4 - 1]) = [0.5, e^-5 - 1]; Q_tot = 2 * 0.5 + (e^-5 - 1) + 0.3
    expected = 1.0 + np.exp(-5.0) - 1.0 + 0.3
    assert mix_by_hand(q, w1, b1, w2, v) == pytest.approx(expected)
    result = monotonic_mix(*(tf.constant(x[None], tf.float32) for x in (q, w1, b1, w2, np.array(v))))
    np.testing.assert_allclose(result, [expected], rtol=1e-6)


def test_team_rewards_and_dones_by_hand():
    """Two samples of three agents; the third agent's group has a fixed policy (weight 0)."""
    rewards = tf.constant([1.0, 2.0, 100.0, -1.0, 0.5, 100.0])
    dones = tf.constant([0.0, 0.0, 0.0, 0.0, 1.0, 0.0])
    weights = tf.constant([1.0, 1.0, 0.0] * 2)
    team_rewards, team_dones = team_rewards_and_dones(rewards, dones, 3, weights)
    np.testing.assert_allclose(team_rewards, [3.0, -0.5])
    np.testing.assert_allclose(team_dones, [0.0, 1.0])
    np.testing.assert_allclose(team_rewards_and_dones(rewards, dones, 3)[0], [103.0, 99.5])


def test_qmix_loss_by_hand():
    q_tot, rewards, dones, next_q_tot = ([1.0, -2.0], [0.5, -1.0], [0.0, 1.0], [4.0, 9.0])
    expected = ((1.0 - (0.5 + 0.9 * 4.0)) ** 2 + (-2.0 - -1.0) ** 2) / 2
    assert float(qmix_loss(*(tf.constant(x) for x in (q_tot, rewards, dones, next_q_tot)), 0.9)) == \
        pytest.approx(expected)


def test_learner_loss_on_constant_networks_by_hand():
    """Agent Q = (1, 2) online, (0.5, 3) target; constant mixers. The online greedy next action is 1
    for every agent, valued 3 by the target agent network, then mixed by the target mixer."""
    agent = QMIXAgent("coordination", env_kwargs=COORDINATION, **dict(TINY, gamma=0.9, **SMALL_MIXER))
    online, target = agent.networks
    set_constant_q(online.agent_network, [1.0, 2.0])
    set_constant_q(target.agent_network, [0.5, 3.0])
    mixers = {"online": ([[1.0, -0.5], [0.2, 0.3], [-1.0, 1.0], [0.5, 0.0]], [0.1, -0.3], [-2.0, 1.0], 0.4),
              "target": ([[0.3, 0.3], [1.0, -1.0], [0.0, 2.0], [0.1, 0.2]], [-0.2, 0.5], [1.0, 0.5], -0.7)}
    set_constant_mixer(online.mixer, *mixers["online"])
    set_constant_mixer(target.mixer, *mixers["target"])
    actions = np.array([[0, 1, 1, 0], [1, 1, 0, 0]])
    rewards = np.array([[-1.0, 0.0, -0.5, -2.0], [0.0, 0.0, -1.0, -1.0]])
    dones = np.array([[0, 0, 0, 0], [1, 1, 1, 1]])
    loss, metrics = agent.learner.loss(coordination_batch(actions, rewards, dones))

    q_tot = np.array([mix_by_hand(np.array([1.0, 2.0])[a], *map(np.array, mixers["online"])) for a in actions])
    next_q_tot = mix_by_hand(np.full(4, 3.0), *map(np.array, mixers["target"]))  # same for both samples
    y = rewards.sum(axis=1) + 0.9 * (1 - dones.max(axis=1)) * next_q_tot
    np.testing.assert_allclose(float(loss), np.mean((q_tot - y) ** 2), rtol=1e-5)
    np.testing.assert_allclose(float(metrics["q_tot"]), q_tot.mean(), rtol=1e-5)


def joint_graph(agent, observations):
    """[B, N, d] joint observations -> the learner's batched GraphTensor (one component per sample)."""
    return agent.learner.graph_tensor(tf.constant(observations, tf.float32))


def test_q_tot_is_monotonic_in_every_agents_q():
    agent = QMIXAgent("heterogeneous_navigation", env_kwargs={"n": 4}, **TINY)
    rng = np.random.default_rng(0)
    graph = joint_graph(agent, rng.normal(size=(32, 4, agent.adapter.obs_dim)))
    agent_qs = tf.constant(5.0 * rng.normal(size=32 * 4), tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(agent_qs)
        q_tot = agent.networks[0].mixer(graph, agent_qs)                                # [32]
    gradients = tape.gradient(q_tot, agent_qs).numpy()                                 # [32 * 4]
    assert q_tot.shape == (32,) and np.all(gradients >= 0) and np.any(gradients > 0)


def test_the_pooled_state_is_each_samples_own_and_ignores_agent_order():
    agent = QMIXAgent("coordination", env_kwargs=COORDINATION, **TINY)
    mixer = agent.networks[0].mixer
    observations = np.random.default_rng(0).normal(size=(2, 4, 1))
    state = mixer.state(joint_graph(agent, observations)).numpy()                      # [2, 2 * units]
    shuffled = observations.copy()
    shuffled[0] = shuffled[0, [2, 0, 3, 1]]   # sample 0's agents in another order
    shuffled[1] += 3.0                        # sample 1 observes something else
    shuffled_state = mixer.state(joint_graph(agent, shuffled)).numpy()
    assert state.shape == (2, 2 * agent.config.hypernet_units)
    np.testing.assert_allclose(shuffled_state[0], state[0], rtol=1e-6)
    assert not np.allclose(shuffled_state[1], state[1])


def test_fixed_policy_agents_are_outside_the_team_reward_and_the_mixer():
    """Runners act at random (train_groups=["hunter"]): their rewards and actions change nothing of the loss."""
    agent = QMIXAgent(HuntersAndRunners(), train_groups=["hunter"], **TINY)
    np.testing.assert_array_equal(agent.learner.trained_weights, [1, 1, 0, 0, 0])
    rng = np.random.default_rng(0)
    observations = rng.normal(size=(6, 5, agent.adapter.obs_dim)).astype(np.float32)
    actions, rewards = np.zeros((6, 5), np.int32), rng.normal(size=(6, 5)).astype(np.float32)
    dones = np.zeros((6, 5), np.float32)

    def loss(actions, rewards):
        return float(agent.learner.loss(Batch(observations, actions, rewards, observations[::-1], dones,
                                              None, None, None, None))[0])

    runners = runner_rows(agent)
    other_actions, other_rewards = actions.copy(), rewards.copy()
    other_actions[:, runners], other_rewards[:, runners] = 2, 50.0
    assert loss(other_actions, other_rewards) == loss(actions, rewards)
    other_rewards[:, ~runners] += 1.0
    assert loss(actions, other_rewards) != loss(actions, rewards)


def test_networks_config_round_trips():
    mixer = QMixer(num_agents=5, embed_dim=4, hypernet_units=8, num_groups=2)
    assert QMixer.from_config(mixer.get_config()).get_config() == mixer.get_config()
    network = QMIXNetwork(5, 4, units=8, num_groups=2, group_num_actions=(4, 2), embed_dim=3)
    copy = QMIXNetwork.from_config(network.get_config())
    assert copy.get_config() == network.get_config() and copy.mixer.embed_dim == 3


@pytest.mark.parametrize("env_name", sorted(ENVS))
def test_fits_and_round_trips(env_name, tmp_path):
    agent = make(QMIXAgent, env_name, **SMALL_MIXER).fit(40, progress_bar=False)
    assert agent.num_updates > 0 and np.isfinite(agent.logger.latest()["train/q_loss"])
    assert agent.learner.train_step.experimental_get_tracing_count() == 1
    env = ENVS[env_name][0]
    loaded = QMIXAgent.load(agent.save(tmp_path / "qmix"), env=None if ENVS[env_name][1] is not None else env())
    for saved, restored in zip(agent.networks[0].variables, loaded.networks[0].variables):  # the mixer's too
        np.testing.assert_array_equal(saved.numpy(), restored.numpy())
    observations = np.random.default_rng(0).normal(size=(8, agent.adapter.num_agents, agent.adapter.obs_dim))
    np.testing.assert_array_equal(loaded.predict(observations.astype(np.float32)),
                                  agent.predict(observations.astype(np.float32)))


def test_the_mixer_is_trained_with_the_agent_network_and_targets_follow():
    agent = QMIXAgent("coordination", env_kwargs=COORDINATION, **dict(TINY, learning_starts=64, **SMALL_MIXER))
    agent.fit(32, progress_bar=False)
    network, target = agent.networks
    before = [v.numpy() for v in (*network.mixer.variables, *target.mixer.variables)]
    agent.learner.train_step(agent.replay.sample(16, np.random.default_rng(0)))
    after = [v.numpy() for v in (*network.mixer.variables, *target.mixer.variables)]
    half = len(before) // 2
    assert all(not np.array_equal(a, b) for a, b in zip(before[:half], after[:half]) if a.ndim == 2)
    assert any(not np.array_equal(a, b) for a, b in zip(before[half:], after[half:]))
    assert {id(v) for v in network.mixer.trainable_variables} <= {id(v) for v in network.trainable_variables}


def test_continuous_actions_are_a_clear_error():
    with pytest.raises(ValueError, match=r"QMIX needs discrete actions; coordination with continuous=True has Box\("):
        QMIXAgent("coordination", env_kwargs={"continuous": True})


@pytest.mark.parametrize("name, value", [("mixing_embed_dim", 0), ("hypernet_units", 1.5), ("epsilon_start", -1)])
def test_invalid_argument_is_named(name, value):
    with pytest.raises(ValueError, match=f"Received: {name}={value!r}"):
        QMIXAgent("coordination", env_kwargs=COORDINATION, **dict(TINY, **{name: value}))
