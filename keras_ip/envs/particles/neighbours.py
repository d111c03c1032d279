"""Batched geometry for particle observations: offsets, distances and the k nearest entities.

Every function works on K copies of a world at once and has no Python loop over agents.
"""

from __future__ import annotations

import numpy as np


def offsets_and_distances(origins: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Relative positions and distances from every origin to every target.

    Args:
      origins: float [K, A, 2] positions (e.g. the agents).
      targets: float [K, B, 2] positions (e.g. the landmarks).

    Returns:
      offsets: float64 [2, K, A, B], targets[k, b] - origins[k, a] (mpe2's relative
        position), the x plane then the y plane (each plane contiguous, for speed).
      distances: float64 [K, A, B], |offsets|, computed as mpe2 computes distances.
    """
    offsets = np.stack([targets[:, None, :, axis] - origins[:, :, None, axis] for axis in (0, 1)])  # [2, K, A, B]
    distances = np.sqrt(np.square(offsets[0]) + np.square(offsets[1]))  # [K, A, B]
    return offsets, distances


def nearest_indices(distances: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k smallest distances of each row, nearest first.

    Args:
      distances: float [K, A, B].
      k: how many to take, 0 <= k <= B.

    Returns:
      int [K, A, k]; ties keep no particular order.
    """
    if k == 0:
        return np.zeros(distances.shape[:-1] + (0,), np.intp)
    candidates = np.argpartition(distances, k - 1, axis=-1)[..., :k]  # [K, A, k], unordered
    order = np.argsort(np.take_along_axis(distances, candidates, axis=-1), axis=-1)  # [K, A, k]
    return np.take_along_axis(candidates, order, axis=-1)


def nearest_offsets(offsets: np.ndarray, distances: np.ndarray, k: int, exclude_self: bool = False) -> np.ndarray:
    """Offsets to the k nearest targets of each origin, nearest first, zero-padded to k slots.

    Args:
      offsets: float [2, K, A, B] and distances: float [K, A, B], from `offsets_and_distances`.
      k: number of slots, >= 0. With fewer than k targets, the slots after the last
        target hold zeros (as mpe2's partial observability pads them).
      exclude_self: True when origins and targets are the same A = B entities; then
        target a is never among origin a's nearest (B - 1 targets are available).

    Returns:
      float64 [K, A, 2 * k]: (dx, dy) of the nearest target, then of the second nearest, ...
    """
    num_copies, num_origins, num_targets = distances.shape
    available = num_targets - 1 if exclude_self else num_targets
    take = max(0, min(k, available))
    if exclude_self:
        distances = distances.copy()
        diagonal = np.arange(num_targets)
        distances[:, diagonal, diagonal] = np.inf
    index = nearest_indices(distances, take)  # [K, A, take]
    slots = np.zeros((num_copies, num_origins, k, 2))  # [K, A, k, 2]
    slots[:, :, :take] = np.take_along_axis(offsets, index[None], axis=3).transpose(1, 2, 3, 0)
    return slots.reshape(num_copies, num_origins, 2 * k)
