"""`DeviceReplayBuffer`: the replay's transitions in tf.Variables on a device (a GPU when
present), so that a sampled batch goes from the replay to the update without passing
through host memory.

Everything else is `keras_ip.replay.ReplayBuffer`: the same slot layout (each observation
stored once), the same bookkeeping of valid slots on the host, the same checks on `add`, and
the same draws: with the same rng, `sample` picks the same slots as a host buffer, so the
batches are equal (tested). Per sample only the B slot indices go to the device; the gather,
the float16 -> float32 cast and the next-slot arithmetic run there. Per environment step,
`add` writes its rows with a few small host -> device updates. A checkpoint (`state_dict`)
copies the written slots back to the host.

Memory: the same bytes as the host buffer (`estimate_nbytes`), now on the device: on a GPU the
buffer must fit in its memory next to the networks; choose `buffer_size` (and float16
observations) accordingly.
"""

from __future__ import annotations

import contextlib

import numpy as np
import tensorflow as tf

from keras_ip.replay import SLOT_OBSERVATION, Batch, ReplayBuffer

_DEVICE_DTYPES = {np.dtype(np.bool_): tf.uint8}  # bool variables lack GPU scatter kernels; 1 byte either way


class DeviceReplayBuffer(ReplayBuffer):
    """A `ReplayBuffer` whose transition data lives in tf.Variables on `device`.

    Init args: those of `ReplayBuffer`, plus
      device: a TensorFlow device name (e.g. "/GPU:0"); None places the variables on
        TensorFlow's default device (the first GPU if there is one, else the CPU).
    `sample` returns a `Batch` of tf.Tensors on that device instead of numpy arrays.
    """

    def __init__(self, capacity: int, num_agents: int, obs_dim: int, action_dim: int | None = None,
                 num_edges: int | None = None, obs_dtype=np.float32, seed=None, device: str | None = None):
        self.device = device
        super().__init__(capacity, num_agents, obs_dim, action_dim, num_edges, obs_dtype, seed)
        # One trace for every batch size: a stream's share of a batch varies from draw to draw.
        self._gather_on_device = tf.function(self._gather_tensors,
                                             input_signature=[tf.TensorSpec([None], tf.int64)])

    def _placement(self):
        return tf.device(self.device) if self.device else contextlib.nullcontext()

    def _allocate_data(self, layout: dict) -> None:
        with self._placement():
            self._data = {name: tf.Variable(tf.zeros(shape, _DEVICE_DTYPES.get(np.dtype(dtype), dtype)),
                                            trainable=False, name=f"replay_{name}")
                          for name, (shape, dtype) in layout.items()}
        self._latest = None  # host copy of the cursor slot's observation and edges (read by `add`)

    def _data_nbytes(self) -> int:
        return sum(v.shape.num_elements() * v.dtype.size for v in self._data.values())

    def _store(self, slot: int, **rows) -> None:
        for name, row in rows.items():
            variable = self._data[name]
            variable.scatter_update(tf.IndexedSlices(tf.constant(row[None], variable.dtype), tf.constant([slot])))
        if "observations" in rows:  # the write cursor's slot: keep the host copy `add` compares with
            self._latest = {name: np.array(rows[name]) for name in SLOT_OBSERVATION if name in rows}

    def _latest_observation(self) -> dict:
        if self._latest is None:  # after `load_state_dict`: read the cursor's slot back once
            self._latest = {name: self._data[name][self._cursor].numpy()
                            for name in SLOT_OBSERVATION if name in self._data}
        return self._latest

    def _gather(self, slots: np.ndarray) -> Batch:
        return self._gather_on_device(tf.constant(slots, tf.int64))

    def _gather_tensors(self, slots):
        """Compiled once for any B: the transitions starting at `slots` int64 [B], gathered on the variables' device."""
        next_slots = (slots + 1) % self.capacity
        data = self._data
        observations = tf.gather(data["observations"], tf.stack([slots, next_slots]))  # [2, B, N, d]
        edges = (None,) * 4
        if self._num_edges is not None:
            edges = (tf.gather(data["senders"], slots), tf.gather(data["receivers"], slots),
                     tf.gather(data["senders"], next_slots), tf.gather(data["receivers"], next_slots))
        return Batch(tf.cast(observations[0], tf.float32), tf.gather(data["actions"], slots),
                     tf.gather(data["rewards"], slots), tf.cast(observations[1], tf.float32),
                     tf.cast(tf.gather(data["terminated"], slots), tf.float32), *edges)

    def _written_data(self, copy: bool) -> dict:
        del copy  # reading a variable back always copies
        return {name: variable[:self._filled].numpy().astype(self._layout[name][1], copy=False)
                for name, variable in self._data.items()}

    def _load_data(self, state, filled: int) -> None:
        for name, variable in self._data.items():
            if filled:
                variable[:filled].assign(tf.constant(np.asarray(state[name]), variable.dtype))
            if filled < self.capacity:
                variable[filled:].assign(tf.zeros([self.capacity - filled, *variable.shape[1:]], variable.dtype))
        self._latest = None

    @staticmethod
    def concatenate(parts: list) -> Batch:
        """Batches from several buffers -> one Batch (tensors stay on their device)."""
        return Batch(*[None if fields[0] is None else tf.concat(fields, axis=0) for fields in zip(*parts)])
