"""What the degree-input tests share: regressing each agent's degree on a 3 x 3 grid whose agents
all observe the same state (tests/layers/test_degree_input.py, tests/baselines/test_maths.py)."""

import numpy as np
import tensorflow as tf

from keras_ip.graphs import graph_tensor, grid

GRID = grid(3, 3)
DEGREES = GRID.degrees().astype(np.float32)       # [2, 3, 2, 3, 4, 3, 2, 3, 2]
BLIND_FLOOR = float(np.var(DEGREES))              # 4/9: the best an output equal at every agent can do
EQUAL_STATES = np.ones((9, 3), np.float32)


def regression_loss(model, call, steps=300, learning_rate=0.03):
    """Fits `call(model, graph) -> [9, ...]` to each agent's degree by MSE; returns the final loss."""
    tf.keras.utils.set_random_seed(0)
    graph = graph_tensor(EQUAL_STATES, GRID)
    target = tf.constant(DEGREES)
    call(model, graph)  # build
    optimizer = tf.keras.optimizers.Adam(learning_rate)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            output = call(model, graph)
            output = tf.reshape(output, [9, -1])                        # [9, outputs]
            loss = tf.reduce_mean(tf.square(output - target[:, None]))
        optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
        return loss

    for _ in range(steps):
        loss = step()
    return float(loss)


def assert_fits_only_with_the_degree(make, call):
    assert regression_loss(make(False), call) >= BLIND_FLOOR - 1e-4  # every agent gets the same output
    assert regression_loss(make(True), call) < 0.01
