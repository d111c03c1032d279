"""The section 4.2 losses against values worked by hand."""

import numpy as np
import pytest
import tensorflow as tf

from keras_ip.sac import losses


def test_td_target():
    # r + gamma (1 - d) V'(s'): [1 + 0.5 * 10, 2 + 0] = [6, 2]
    y = losses.td_target(tf.constant([1.0, 2.0]), tf.constant([0.0, 1.0]), tf.constant([10.0, 10.0]), 0.5)
    np.testing.assert_allclose(y.numpy(), [6.0, 2.0])


def test_critic_loss():
    # 0.5 mean([0, 1]) + 0.5 mean([1, 9]) = 0.25 + 2.5
    loss = losses.critic_loss(tf.constant([1.0, 2.0]), tf.constant([0.0, 4.0]), tf.constant([1.0, 1.0]))
    assert float(loss) == pytest.approx(2.75)


def test_value_loss_and_its_target_has_no_gradient():
    # target = q - alpha log_pi = [2 + 0.5, 1 + 1] = [2.5, 2]; 0.5 mean([1.5^2, 2^2]) = 0.5 * 3.125
    v, q, log_pi = tf.Variable([1.0, 0.0]), tf.Variable([2.0, 1.0]), tf.Variable([-1.0, -2.0])
    with tf.GradientTape(persistent=True) as tape:
        loss = losses.value_loss(v, q, log_pi, 0.5)
    assert float(loss) == pytest.approx(1.5625)
    np.testing.assert_allclose(tape.gradient(loss, v).numpy(), [-0.75, -1.0])  # (v - target) / 2
    assert tape.gradient(loss, q) is None and tape.gradient(loss, log_pi) is None


def test_policy_loss_and_gradients():
    # mean(alpha log_pi - q) = mean([-0.5 - 2, -1 - 1]) = -2.25
    log_pi, q = tf.Variable([-1.0, -2.0]), tf.Variable([2.0, 1.0])
    with tf.GradientTape(persistent=True) as tape:
        loss = losses.policy_loss(log_pi, q, tf.constant(0.5))
    assert float(loss) == pytest.approx(-2.25)
    np.testing.assert_allclose(tape.gradient(loss, log_pi).numpy(), [0.25, 0.25])
    np.testing.assert_allclose(tape.gradient(loss, q).numpy(), [-0.5, -0.5])


def test_alpha_loss_raises_alpha_when_entropy_is_below_target():
    # -mean(0.5 * ([-1, -2] + 1)) = -mean([0, -0.5]) = 0.25
    log_alpha = tf.Variable(0.5)
    with tf.GradientTape() as tape:
        loss = losses.alpha_loss(log_alpha, tf.constant([-1.0, -2.0]), 1.0)
    assert float(loss) == pytest.approx(0.25)
    # d/d log_alpha = -mean(log_pi + target) = -mean([0, -1]) = 0.5 > 0: entropy 1.5 > target 1, alpha falls
    assert float(tape.gradient(loss, log_alpha)) == pytest.approx(0.5)
    with tf.GradientTape() as tape:
        loss = losses.alpha_loss(log_alpha, tf.constant([-0.1, -0.2]), 1.0)  # entropy 0.15 < 1
    assert float(tape.gradient(loss, log_alpha)) < 0  # gradient descent raises alpha
