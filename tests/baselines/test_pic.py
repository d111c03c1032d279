"""PICAgent (MADDPG with the permutation-invariant critic): its losses and critic against numbers
worked by hand, the critic's permutation invariance, fixed-policy groups left out of the team
reward, fitting, save -> load, and the continuous-action error."""

import numpy as np
import pytest
import tensorflow as tf

from keras_ip.baselines.pic import (PermutationInvariantCritic, PICAgent, PICConfig, critic_loss, joint_actions,
                                    logits_penalty, policy_loss, team_rewards_and_dones)
from keras_ip.graphs import GraphBatcher, empty, full
from keras_ip.networks import INVALID_SCORE
from keras_ip.replay import Batch
from tests.test_group_policies import HuntersAndRunners, runner_rows

TINY = dict(units=8, batch_size=16, learning_starts=8, train_freq=4, gradient_steps=1, buffer_size=300, seed=0,
            jit_compile=False)
ENVS = {"coordination": {"rows": 2, "cols": 2}, "heterogeneous_navigation": {"n": 4, "max_cycles": 5}}


def weights(agent):
    return [v.numpy() for network in agent.networks for v in network.variables]


# ----------------------------------------------------------------------------- losses by hand
def test_team_reward_sums_the_learning_agents_and_done_is_any_agent_done():
    rewards = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], np.float32)
    dones = np.array([[0.0, 0.0, 1.0], [0.0, 0.0, 0.0]], np.float32)
    r, done = team_rewards_and_dones(rewards, dones, [1.0, 1.0, 0.0])  # agent 2 has a fixed policy
    np.testing.assert_allclose(r, [1 + 2, 4 + 5])
    np.testing.assert_allclose(done, [1.0, 0.0])  # the fixed agent's done still ends the episode
    np.testing.assert_allclose(team_rewards_and_dones(rewards, dones)[0], [6.0, 15.0])


def test_critic_loss_by_hand():
    np.testing.assert_allclose(critic_loss(tf.constant([1.0, 2.0]), tf.constant([0.0, 4.0])), (1 + 4) / 2)


def test_policy_loss_and_logits_penalty_by_hand():
    """The penalty reads the valid logits of learning agents: 1, -2, 3 (not INVALID_SCORE, not agent 2's)."""
    logits = tf.constant([[1.0, -2.0], [3.0, INVALID_SCORE], [2.0, 0.0]])
    agent_weights = tf.constant([1.0, 1.0, 0.0])
    np.testing.assert_allclose(logits_penalty(logits, agent_weights), (1 + 4 + 9) / 3, rtol=1e-6)
    np.testing.assert_allclose(policy_loss(tf.constant([1.0, 3.0]), logits, agent_weights),
                               -(1 + 3) / 2 + 1e-3 * 14 / 3, rtol=1e-6)
    np.testing.assert_allclose(logits_penalty(logits[:1]), (1 + 4) / 2)


def test_fixed_agents_keep_their_replayed_actions():
    sampled, replayed = tf.constant([[0.0, 1.0], [0.0, 1.0]]), tf.constant([[1.0, 0.0], [1.0, 0.0]])
    np.testing.assert_array_equal(joint_actions(sampled, replayed, tf.constant([1.0, 0.0])), [[0, 1], [1, 0]])
    np.testing.assert_array_equal(joint_actions(sampled, replayed), sampled)


# ----------------------------------------------------------------------------- the critic
def joint_graph(observations):
    """[B, N, d] joint observations -> the batched GraphTensor (no edges: PIC reads none)."""
    return GraphBatcher(empty(observations.shape[1]))(observations)


def test_critic_by_hand():
    """units 3, one convolution; encoder, W_self, W_all = I, readout [I; I], w_q = 1, b_q = 0.5:
    h^0 = relu([o, a]), h^1 = relu(h^0 + mean h^0), Q = sum(mean h^1 + max h^1) + 0.5."""
    critic = PermutationInvariantCritic(units=3, critic_layers=1)
    observations = np.array([[[0.5], [2.0], [1.0]], [[-1.0], [0.0], [3.0]]], np.float32)  # [B=2, N=3, 1]
    actions = np.eye(2, dtype=np.float32)[[0, 1, 1, 1, 0, 0]]                              # [6, 2]
    graph = joint_graph(observations)
    critic(graph, actions)
    eye = np.eye(3, dtype=np.float32)
    critic.encoder[0].kernel.assign(eye)
    convolution = critic.convolutions[0]
    convolution.self_layer.kernel.assign(eye)
    convolution.all_layer.kernel.assign(eye)
    critic.readout.kernel.assign(np.concatenate([eye, eye]))
    critic.q_head.kernel.assign(np.ones((3, 1), np.float32))
    critic.q_head.bias.assign([0.5])

    h0 = np.maximum(np.concatenate([observations.reshape(6, 1), actions], axis=1), 0).reshape(2, 3, 3)
    h1 = np.maximum(h0 + h0.mean(axis=1, keepdims=True), 0)
    expected = (h1.mean(axis=1) + h1.max(axis=1)).sum(axis=1) + 0.5
    np.testing.assert_allclose(critic(graph, actions), expected, rtol=1e-6)


def test_critic_is_invariant_to_permuting_the_agents():
    rng = np.random.default_rng(0)
    critic = PermutationInvariantCritic(units=8, critic_layers=2)
    observations = rng.normal(size=(3, 5, 4)).astype(np.float32)        # [B, N, d]
    actions = np.eye(3, dtype=np.float32)[rng.integers(3, size=(3, 5))]  # [B, N, A]
    q = critic(joint_graph(observations), actions.reshape(15, 3)).numpy()
    for seed in range(3):
        order = np.random.default_rng(seed + 1).permutation(5)
        permuted = critic(joint_graph(observations[:, order]), actions[:, order].reshape(15, 3))
        np.testing.assert_allclose(permuted, q, rtol=1e-5, atol=1e-6)
    changed = actions.copy()
    changed[0, 0] = np.roll(changed[0, 0], 1)  # agent 0 of sample 0 takes another action
    assert not np.isclose(critic(joint_graph(observations), changed.reshape(15, 3))[0], q[0])


# ----------------------------------------------------------------------------- the update by hand
def test_update_on_constant_networks_by_hand():
    """Critic Q = c = 0.5, target critic 2.0, actor logits l = (1, -1, 2, 0, 0) everywhere, learning
    rate 0; only the two hunters learn (the runners act at random). Team rewards (1, 1), dones
    (1, 0): y = (1, 1 + 0.95 * 2), L_Q = ((0.5 - 1)^2 + (0.5 - 2.9)^2) / 2; L_pi = -0.5 + 1e-3 * 6 / 5."""
    agent = PICAgent(HuntersAndRunners(), train_groups=["hunter"], **TINY)
    networks = agent.networks
    for network, value in ((networks.critic, 0.5), (networks.target_critic, 2.0)):
        for variable in network.variables:
            variable.assign(tf.zeros_like(variable))
        network.q_head.bias.assign([value])
    for variable in networks.actor.variables:
        variable.assign(tf.zeros_like(variable))
    networks.actor.head.logits.bias.assign([1.0, -1.0, 2.0, 0.0, 0.0])
    for optimizer in (agent.learner.actor_optimizer, agent.learner.critic_optimizer):
        optimizer.learning_rate.assign(0.0)
    observations = np.random.default_rng(0).uniform(-1, 1, (2, 5, 3)).astype(np.float32)
    batch = Batch(observations, np.array([[4, 0, 0, 2, 1], [1, 4, 0, 1, 2]], np.int32),
                  np.array([[1.0, 0.0, -1.0, -1.0, 0.0], [0.0, 1.0, 0.0, -1.0, -1.0]], np.float32), observations,
                  np.array([[0.0, 0.0, 0.0, 0.0, 1.0], [0.0, 0.0, 0.0, 0.0, 0.0]], np.float32), None, None, None, None)
    metrics = agent.learner.train_step(batch)
    assert float(metrics["critic_loss"]) == pytest.approx(((0.5 - 1.0) ** 2 + (0.5 - 2.9) ** 2) / 2, rel=1e-5)
    assert float(metrics["policy_loss"]) == pytest.approx(-0.5 + 1e-3 * (1 + 1 + 4) / 5, rel=1e-5)
    assert float(metrics["q"]) == pytest.approx(0.5)


# ----------------------------------------------------------------------------- config
def test_init_signature_matches_config(signature_matches_config):
    assert signature_matches_config(PICAgent)


def test_defaults_and_no_agent_graph():
    config = PICConfig()
    assert (config.graph, config.critic_layers, config.gumbel_temperature) == ("none", 2, 1.0)
    assert PICAgent("coordination", env_kwargs=ENVS["coordination"], **TINY).graph.num_edges == 0


@pytest.mark.parametrize("name, value", [("critic_layers", 0), ("gumbel_temperature", 0.0), ("tau", 2.0)])
def test_invalid_argument_is_named(name, value):
    with pytest.raises(ValueError, match=f"Received: {name}={value!r}"):
        PICAgent("coordination", env_kwargs=ENVS["coordination"], **dict(TINY, **{name: value}))


def test_continuous_actions_are_a_clear_error():
    with pytest.raises(ValueError, match=r"PIC needs discrete actions; cooperative_navigation with "
                                         r"continuous=True has Box\("):
        PICAgent("cooperative_navigation", env_kwargs={"continuous": True})


# ----------------------------------------------------------------------------- fit, save, load
@pytest.mark.parametrize("env", sorted(ENVS))
def test_fit_then_save_and_load_predict_the_same(env, tmp_path, random_observations):
    agent = PICAgent(env, env_kwargs=ENVS[env], **TINY).fit(40, progress_bar=False)
    assert agent.num_updates == 9  # after steps 8, 12, ..., 40
    assert agent.learner.train_step.experimental_get_tracing_count() == 1  # no retracing after warm-up
    record = agent.logger.history[-1]
    assert all(np.isfinite(record[f"train/{name}"]) for name in ("critic_loss", "policy_loss", "q"))
    observations = random_observations(agent, 8)
    greedy = agent.predict(observations)
    logits = agent.networks.actor(agent.learner.graph_tensor(observations)).numpy()
    np.testing.assert_array_equal(greedy.ravel(), np.argmax(logits, axis=-1))
    loaded = PICAgent.load(agent.save(tmp_path / env))
    for saved, restored in zip(weights(agent), weights(loaded)):
        np.testing.assert_array_equal(saved, restored)
    assert int(loaded.learner.updates.numpy()) == agent.num_updates
    np.testing.assert_array_equal(loaded.predict(observations), greedy)


def test_groups_with_different_action_counts_and_a_fixed_group():
    agent = PICAgent(HuntersAndRunners(), graph="full", train_groups=["hunter"], **TINY).fit(24, progress_bar=False)
    assert agent.learner.trained_weights.numpy().tolist() == [1, 1, 0, 0, 0]
    assert np.isfinite(agent.logger.history[-1]["train/critic_loss"])
    observations = np.random.default_rng(0).uniform(-1, 1, (16, 5, 3)).astype(np.float32)
    logits = agent.networks.actor(GraphBatcher(full(5), agent.adapter.group_ids)(observations)).numpy()
    assert np.all(logits.reshape(16, 5, 5)[:, runner_rows(agent), 3:] == INVALID_SCORE)  # runners have 3 actions
    sampled = agent._act(observations, deterministic=False)
    assert sampled[:, runner_rows(agent)].max() < 3 and sampled[:, ~runner_rows(agent)].max() < 5
