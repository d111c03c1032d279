"""Batched offsets, distances and k-nearest selection, against small hand-worked cases."""

import numpy as np

from keras_ip.envs.particles.neighbours import nearest_indices, nearest_offsets, offsets_and_distances

ORIGINS = np.array([[[0.0, 0.0], [3.0, 0.0]]])  # [1 copy, 2 origins, 2]
TARGETS = np.array([[[0.0, 2.0], [1.0, 0.0], [-3.0, 0.0]]])  # [1, 3 targets, 2]


def test_offsets_and_distances_by_hand():
    offsets, distances = offsets_and_distances(ORIGINS, TARGETS)
    assert offsets.shape == (2, 1, 2, 3)
    np.testing.assert_array_equal(offsets[0, 0], [[0, 1, -3], [-3, -2, -6]])  # x planes: target - origin
    np.testing.assert_array_equal(offsets[1, 0], [[2, 0, 0], [2, 0, 0]])
    np.testing.assert_allclose(distances[0], [[2, 1, 3], [np.sqrt(13), 2, 6]])


def test_same_set_distances_have_an_infinite_diagonal():
    _, distances = offsets_and_distances(ORIGINS)
    np.testing.assert_array_equal(distances[0], [[np.inf, 3], [3, np.inf]])


def test_nearest_indices_are_sorted_nearest_first_per_copy():
    distances = np.array([[[5.0, 1.0, 4.0, 2.0, 3.0]], [[0.5, 9.0, 0.1, 7.0, 8.0]]])  # [2, 1, 5]
    np.testing.assert_array_equal(nearest_indices(distances, 3), [[[1, 3, 4]], [[2, 0, 3]]])
    assert nearest_indices(distances, 0).shape == (2, 1, 0)


def test_nearest_offsets_pad_with_zeros_and_skip_absent_targets():
    offsets, distances = offsets_and_distances(ORIGINS, TARGETS)
    distances[0, 1, 1] = np.inf  # target 1 is absent for origin 1
    near = nearest_offsets(offsets, distances, 4)  # [1, 2, 8]
    np.testing.assert_array_equal(near[0, 0], [1, 0, 0, 2, -3, 0, 0, 0])
    np.testing.assert_array_equal(near[0, 1], [-3, 2, -6, 0, 0, 0, 0, 0])
    np.testing.assert_array_equal(nearest_offsets(offsets, distances, 1)[0], [[1, 0], [-3, 2]])
