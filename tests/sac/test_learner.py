"""The compiled SAC update: no retracing, Polyak targets, learning on a fixed batch, and
gradients that reach the neighbours' critics (and only them)."""

import numpy as np
import pytest
import tensorflow as tf

from keras_ip.graphs import from_edges, graph_tensor, grid
from keras_ip.networks import ActionSpec, build_networks
from keras_ip.replay import Batch
from keras_ip.sac import SACLearner
from keras_ip.layers.heads import straight_through_gumbel_softmax
from keras_ip.sac.policy import policy_noise, policy_terms

DISCRETE = ActionSpec(num_actions=3)
CONTINUOUS = ActionSpec(action_dim=2, low=np.float32([-1, -2]), high=np.float32([1, 2]))


def make_batch(spec, batch_size=8, num_agents=4, obs_dim=3, seed=0, edges=None):
    rng = np.random.default_rng(seed)
    if spec.discrete:
        actions = rng.integers(0, spec.num_actions, (batch_size, num_agents)).astype(np.int32)
    else:
        actions = rng.uniform(spec.low, spec.high, (batch_size, num_agents, spec.action_dim)).astype(np.float32)
    per_row = None if edges is None else np.broadcast_to(edges[None], (batch_size,) + edges.shape).astype(np.int32)
    return Batch(rng.normal(size=(batch_size, num_agents, obs_dim)).astype(np.float32), actions,
                 rng.normal(size=(batch_size, num_agents)).astype(np.float32),
                 rng.normal(size=(batch_size, num_agents, obs_dim)).astype(np.float32),
                 (rng.random((batch_size, num_agents)) < 0.2).astype(np.float32),
                 None if per_row is None else per_row[..., 0], None if per_row is None else per_row[..., 1],
                 None if per_row is None else per_row[..., 0], None if per_row is None else per_row[..., 1])


def make_learner(spec, propagation="mean_field", graph=None, seed=0, **kwargs):
    tf.keras.utils.set_random_seed(seed)
    networks = build_networks(3, spec, propagation, units=16, hops=2)
    return SACLearner(networks, spec, graph or grid(2, 2), seed=seed, **kwargs)


@pytest.mark.parametrize("spec", [DISCRETE, CONTINUOUS], ids=["discrete", "continuous"])
def test_no_retracing_across_100_updates(spec):
    learner = make_learner(spec, jit_compile=True)
    for step in range(100):
        metrics = learner.train_step(make_batch(spec, seed=step))
    assert learner.train_step.experimental_get_tracing_count() == 1
    assert all(np.isfinite(float(v)) for v in metrics.values())
    assert int(learner.critic_optimizer.iterations) == 100


def test_target_value_moves_by_polyak_average():
    learner = make_learner(DISCRETE, tau=0.25, jit_compile=False)
    nets = learner.networks
    before_target = [v.numpy() for v in nets.target_value.variables]
    learner.train_step(make_batch(DISCRETE))
    after_value = [v.numpy() for v in nets.value.variables]
    for target, old, new in zip(nets.target_value.variables, before_target, after_value):
        np.testing.assert_allclose(target.numpy(), 0.25 * new + 0.75 * old, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("spec", [DISCRETE, CONTINUOUS], ids=["discrete", "continuous"])
def test_critic_and_value_losses_fall_on_a_fixed_batch(spec):
    learner = make_learner(spec, jit_compile=True)
    batch = make_batch(spec, batch_size=32)
    first = learner.train_step(batch)
    for _ in range(150):
        last = learner.train_step(batch)
    assert float(last["critic_loss"]) < 0.5 * float(first["critic_loss"])
    assert float(last["value_loss"]) < float(first["value_loss"])


def test_fixed_alpha_stays_and_auto_alpha_moves():
    fixed = make_learner(DISCRETE, alpha=0.2, jit_compile=False)
    auto = make_learner(DISCRETE, alpha="auto", jit_compile=False)
    for step in range(5):
        fixed_metrics = fixed.train_step(make_batch(DISCRETE, seed=step))
        auto_metrics = auto.train_step(make_batch(DISCRETE, seed=step))
    assert float(fixed_metrics["alpha"]) == pytest.approx(0.2)
    assert float(auto_metrics["alpha"]) != pytest.approx(1.0, abs=1e-4)


def test_xla_and_eager_graph_steps_agree():
    """Compares the noise-free metrics: XLA and the TF kernels draw different random streams
    from the same tf.random.Generator seed, so sampled-action metrics differ by design."""
    results = []
    for jit in (False, True):
        learner = make_learner(CONTINUOUS, seed=3, jit_compile=jit)
        results.append({k: float(v) for k, v in learner.train_step(make_batch(CONTINUOUS)).items()})
    for key in ("critic_loss", "q"):
        assert results[0][key] == pytest.approx(results[1][key], rel=1e-4, abs=1e-5), key


def test_per_sample_graphs_give_the_same_update_as_the_static_graph():
    graph = grid(2, 2)
    edges = np.stack([graph.senders, graph.receivers], axis=1)
    static = make_learner(DISCRETE, seed=5, jit_compile=False)
    dynamic = make_learner(DISCRETE, seed=5, jit_compile=False)
    a = static.train_step(make_batch(DISCRETE))
    b = dynamic.train_step(make_batch(DISCRETE, edges=edges))
    for key in a:
        assert float(a[key]) == pytest.approx(float(b[key]), rel=1e-5, abs=1e-6), key


def _path_setup():
    path = from_edges(3, [(0, 1), (1, 2)])
    nets = build_networks(3, DISCRETE, "none", units=8, hops=1, critic_hops=1)
    graph = graph_tensor(np.random.default_rng(0).normal(size=(3, 3)).astype(np.float32), path)
    return nets, graph, tf.Variable(tf.random.normal([3, 3], seed=1))


def min_twin_q(critics, graph):
    return lambda actions: tf.reduce_min(critics(graph, actions), axis=1)


def test_discrete_policy_gradient_reaches_neighbours_critics_only():
    """Agent 0's logits get gradient from E[Q_1] (its neighbour) but none from E[Q_2] (two hops away)."""
    nets, graph, logits = _path_setup()
    gradients = []
    for agent in (1, 2):
        with tf.GradientTape() as tape:
            noise = policy_noise(tf.random.Generator.from_seed(0), 3, DISCRETE)
            q_pi, _ = policy_terms(logits, min_twin_q(nets.critics, graph), DISCRETE, noise)
            q = q_pi[agent]
        gradients.append(tape.gradient(q, logits).numpy()[0])
    assert np.abs(gradients[0]).max() > 1e-6
    np.testing.assert_array_equal(gradients[1], 0.0)


def test_discrete_critic_values_every_own_action_independently_of_the_own_action_input():
    """Q_i(s, ., a_Ni) must not read a_i, so sum_a q_i(a) Q_i(s, a, a_Ni) is an exact expectation."""
    nets, graph, _ = _path_setup()
    actions = tf.one_hot([0, 1, 2], 3)
    flipped = tf.one_hot([2, 1, 2], 3)  # agent 0 changes its action
    q, q_flipped = nets.critics(graph, actions).numpy(), nets.critics(graph, flipped).numpy()
    assert q.shape == (3, 2, 3)  # [agents, twin critics, own actions]
    np.testing.assert_allclose(q[0], q_flipped[0])      # agent 0's own values unchanged
    assert not np.allclose(q[1], q_flipped[1])          # its neighbour sees the change
    np.testing.assert_allclose(q[2], q_flipped[2])      # two hops away: unchanged


def test_discrete_policy_terms_are_exact_expectations_over_the_own_action():
    nets, graph, logits = _path_setup()
    noise = tf.random.Generator.from_seed(4).uniform([3, 3])
    q_pi, log_pi = policy_terms(logits, min_twin_q(nets.critics, graph), DISCRETE, noise)
    sampled = straight_through_gumbel_softmax(logits, noise)
    q_twin = nets.critics(graph, sampled).numpy()
    q_all = np.minimum(q_twin[:, 0], q_twin[:, 1])
    probs = tf.nn.softmax(logits).numpy()
    np.testing.assert_allclose(q_pi.numpy(), (probs * q_all).sum(-1), rtol=1e-5)
    np.testing.assert_allclose(log_pi.numpy(), (probs * np.log(probs)).sum(-1), rtol=1e-5)


def test_per_sample_edges_must_match_the_batch():
    learner = make_learner(DISCRETE, jit_compile=False)
    graph = grid(2, 2)
    batch = make_batch(DISCRETE)
    wrong = np.tile(graph.senders[None], (3, 1))  # 3 rows of edges for 8 joint states
    with pytest.raises(ValueError, match="rows"):
        learner.graph_tensor(batch.observations, wrong, wrong)


def test_invalid_alpha_is_rejected():
    with pytest.raises(ValueError, match="alpha"):
        make_learner(DISCRETE, alpha=-0.1)


def test_changing_hyperparameters_applies_without_retracing():
    learner = make_learner(DISCRETE, tau=0.5, jit_compile=True)
    learner.train_step(make_batch(DISCRETE))
    learner.set_hyperparameters(learning_rate=0.05, gamma=0.5, tau=1.0, alpha=0.3)
    metrics = learner.train_step(make_batch(DISCRETE, seed=1))
    assert learner.train_step.experimental_get_tracing_count() == 1
    assert float(metrics["alpha"]) == pytest.approx(0.3)
    assert float(learner.actor_optimizer.learning_rate) == pytest.approx(0.05)
    for target, source in zip(learner.networks.target_value.variables, learner.networks.value.variables):
        np.testing.assert_allclose(target.numpy(), source.numpy())  # tau = 1 copies V into V-bar


@pytest.mark.parametrize("spec", [DISCRETE, CONTINUOUS], ids=["discrete", "continuous"])
def test_a_batch_processed_in_chunks_gives_the_same_update(spec):
    whole = make_learner(spec, seed=7, jit_compile=True)
    chunked = make_learner(spec, seed=7, jit_compile=True, max_chunk_agents=8)  # 8 joint states of 4 -> 4 chunks
    batch = make_batch(spec)
    a, b = whole.train_step(batch), chunked.train_step(batch)
    for key in a:
        assert float(a[key]) == pytest.approx(float(b[key]), rel=1e-4, abs=1e-6), key
    for x, y in zip(whole.networks.actor.variables + whole.networks.critics.variables,
                    chunked.networks.actor.variables + chunked.networks.critics.variables):
        np.testing.assert_allclose(x.numpy(), y.numpy(), rtol=1e-4, atol=1e-6)
    for _ in range(3):
        chunked.train_step(make_batch(spec, seed=1))
    assert chunked.train_step.experimental_get_tracing_count() == 1
