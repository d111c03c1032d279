"""Layers of keras_ip.layers.dense: GroupedDense's initialisation (and StackedDense's, which shares it)."""

import numpy as np
import pytest
import tensorflow as tf

from keras_ip.layers.dense import GroupedDense, StackedDense


@pytest.mark.parametrize("make, call", [
    (lambda: GroupedDense(64, num_groups=8), lambda layer, x: layer(x, tf.zeros([2], tf.int32))),
    (lambda: StackedDense(64, copies=8), lambda layer, x: layer(x)),
], ids=["GroupedDense", "StackedDense"])
def test_each_slice_of_a_stacked_kernel_is_an_independent_glorot_draw(make, call):
    """Glorot uniform on [d, units] has variance 2 / (d + units) = 2 / (32 + 64) = 0.0208; counting
    the 8 slices into both fans would give 2 / (8 * 32 + 8 * 64) = 0.0026."""
    tf.keras.utils.set_random_seed(0)
    layer = make()
    call(layer, tf.zeros([2, 32]))
    kernel = layer.kernel.numpy()                                   # [8, 32, 64]
    limit = np.sqrt(6 / (32 + 64))
    assert kernel.shape == (8, 32, 64) and np.abs(kernel).max() <= limit
    np.testing.assert_allclose(kernel.reshape(8, -1).var(axis=1), 2 / (32 + 64), rtol=0.1)
    assert not np.allclose(kernel[0], kernel[1])                    # independent draws, not one copied
