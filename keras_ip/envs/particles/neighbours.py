"""Batched geometry for particle observations: offsets, distances and the k nearest entities.

Every function works on K copies of a world at once and has no Python loop over agents.
A target at infinite distance counts as absent: it is never among the nearest unless
fewer real targets exist, and then its slot holds zeros.
"""

from __future__ import annotations

import numpy as np


def offsets_and_distances(origins: np.ndarray, targets: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Relative positions and distances from every origin to every target.

    Args:
      origins: float [K, A, 2] positions (e.g. the agents).
      targets: float [K, B, 2] positions (e.g. the landmarks), or None for the origins
        themselves (B = A); then the diagonal distances are +inf, so that an entity is
        never its own neighbour.

    Returns:
      offsets: float64 [2, K, A, B], targets[k, b] - origins[k, a] (mpe2's relative
        position), the x plane then the y plane (each plane contiguous, for speed).
      distances: float64 [K, A, B], |offsets|, computed as mpe2 computes distances.
    """
    same = targets is None
    targets = origins if same else targets
    offsets = np.empty((2,) + origins.shape[:2] + targets.shape[1:2])  # [2, K, A, B]
    for axis in (0, 1):
        np.subtract(targets[:, None, :, axis], origins[:, :, None, axis], out=offsets[axis])
    distances = np.sqrt(np.square(offsets[0]) + np.square(offsets[1]))  # [K, A, B]
    if same:
        diagonal = np.arange(origins.shape[1])
        distances[:, diagonal, diagonal] = np.inf
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


def nearest_offsets(offsets: np.ndarray, distances: np.ndarray, k: int) -> np.ndarray:
    """Offsets to the k nearest targets of each origin, nearest first, zero-padded to k slots.

    Args:
      offsets: float [2, K, A, B] and distances: float [K, A, B], from `offsets_and_distances`.
      k: number of slots, >= 0. With fewer than k targets at finite distance, the slots
        after the last of them hold zeros (as mpe2's partial observability pads them).

    Returns:
      float64 [K, A, 2 * k]: (dx, dy) of the nearest target, then of the second nearest, ...
    """
    num_copies, num_origins, num_targets = distances.shape
    take = min(k, num_targets)
    index = nearest_indices(distances, take)  # [K, A, take]
    present = np.isfinite(np.take_along_axis(distances, index, axis=-1))  # [K, A, take]
    slots = np.zeros((num_copies, num_origins, k, 2))  # [K, A, k, 2]
    slots[:, :, :take] = np.take_along_axis(offsets, index[None], axis=3).transpose(1, 2, 3, 0) * present[..., None]
    return slots.reshape(num_copies, num_origins, 2 * k)
