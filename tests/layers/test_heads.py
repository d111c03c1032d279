"""Policy heads and the sampling maths, checked against closed forms."""

import math

import numpy as np
import pytest
import tensorflow as tf

from keras_ip.layers import CategoricalHead, TanhGaussianHead
from keras_ip.layers.heads import (LOG_STD_MAX, LOG_STD_MIN, gumbel_max_sample, straight_through_gumbel_softmax,
                                   tanh_gaussian_sample)


def test_tanh_gaussian_log_prob_at_zero_is_standard_normal_density():
    action, log_prob = tanh_gaussian_sample(tf.zeros([1, 1]), tf.zeros([1, 1]), tf.zeros([1, 1]))
    assert float(action[0, 0]) == 0.0
    assert float(log_prob[0]) == pytest.approx(-0.5 * math.log(2 * math.pi), abs=1e-6)  # -0.9189385


def test_tanh_gaussian_log_prob_matches_change_of_variables():
    # u = 0.5 + 2 * 1 = 2.5, a = tanh(2.5); log N(u; 0.5, 2) = -0.5 - log 2 - 0.5 log(2 pi) = -2.1120857
    # log |da/du| = log(1 - tanh(2.5)^2) = log(0.0265922) = -3.6272
    action, log_prob = tanh_gaussian_sample(tf.constant([[0.5]]), tf.constant([[math.log(2.0)]]), tf.constant([[1.0]]))
    a = math.tanh(2.5)
    assert float(action[0, 0]) == pytest.approx(a, rel=1e-6)
    expected = (-0.5 - math.log(2.0) - 0.5 * math.log(2 * math.pi)) - math.log(1 - a * a)
    assert float(log_prob[0]) == pytest.approx(expected, rel=1e-5)


def test_tanh_gaussian_log_prob_sums_over_action_dimensions():
    mean, log_std, normal = tf.constant([[0.1, -0.3]]), tf.constant([[0.0, -1.0]]), tf.constant([[0.5, 2.0]])
    _, joint = tanh_gaussian_sample(mean, log_std, normal)
    parts = [tanh_gaussian_sample(mean[:, k:k + 1], log_std[:, k:k + 1], normal[:, k:k + 1])[1] for k in range(2)]
    assert float(joint[0]) == pytest.approx(float((parts[0] + parts[1])[0]), rel=1e-6)


def test_tanh_gaussian_log_prob_is_finite_for_saturated_actions():
    _, log_prob = tanh_gaussian_sample(tf.constant([[30.0]]), tf.constant([[0.0]]), tf.constant([[0.0]]))
    assert np.isfinite(log_prob.numpy()).all()


def test_tanh_gaussian_sample_is_reparameterised():
    mean = tf.Variable([[0.2]])
    with tf.GradientTape() as tape:
        action, _ = tanh_gaussian_sample(mean, tf.zeros([1, 1]), tf.constant([[0.3]]))
    # d tanh(mean + 0.3) / d mean = 1 - tanh(0.5)^2
    assert float(tape.gradient(action, mean)[0, 0]) == pytest.approx(1 - math.tanh(0.5) ** 2, rel=1e-6)


def test_gumbel_max_sample_frequencies_match_softmax():
    logits = tf.math.log(tf.constant([[0.2, 0.5, 0.3]]))
    uniform = tf.random.stateless_uniform([40000, 3], seed=[1, 2])
    samples = gumbel_max_sample(tf.tile(logits, [40000, 1]), uniform).numpy()
    np.testing.assert_allclose(np.bincount(samples, minlength=3) / 40000, [0.2, 0.5, 0.3], atol=0.01)


def test_straight_through_is_one_hot_forward_and_softmax_backward():
    logits = tf.Variable([[1.0, 2.0, 0.5]])
    uniform = tf.constant([[0.3, 0.6, 0.9]])
    weights = tf.constant([[1.0, -2.0, 3.0]])
    with tf.GradientTape() as tape:
        sample = straight_through_gumbel_softmax(logits, uniform)
        value = tf.reduce_sum(sample * weights)
    perturbed = logits.numpy() - np.log(-np.log(uniform.numpy()))
    expected_hot = np.eye(3)[np.argmax(perturbed)]
    np.testing.assert_allclose(sample.numpy()[0], expected_hot, atol=1e-6)
    soft = np.exp(perturbed[0]) / np.exp(perturbed[0]).sum()
    jacobian = np.diag(soft) - np.outer(soft, soft)  # d softmax / d logits
    np.testing.assert_allclose(tape.gradient(value, logits).numpy()[0], jacobian @ weights.numpy()[0], rtol=1e-5)


def test_categorical_head_shapes_and_config():
    head = CategoricalHead(5)
    assert head(tf.zeros([7, 16])).shape == (7, 5)
    clone = CategoricalHead.from_config(head.get_config())
    assert clone.num_actions == 5
    with pytest.raises(ValueError, match="num_actions"):
        CategoricalHead(1)


def test_gaussian_head_log_std_stays_in_bounds():
    head = TanhGaussianHead(2)
    mean, log_std = head(tf.constant(np.linspace(-1e3, 1e3, 32).reshape(2, 16), tf.float32))
    assert mean.shape == (2, 2)
    assert LOG_STD_MIN <= float(tf.reduce_min(log_std)) and float(tf.reduce_max(log_std)) <= LOG_STD_MAX
    assert TanhGaussianHead.from_config(head.get_config()).action_dim == 2
