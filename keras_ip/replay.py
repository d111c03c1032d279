"""Replay: a preallocated ring buffer of joint transitions of N agents -> `Batch`.

Observations are stored once, in a ring of `capacity` SLOTS. Slot k holds one joint
observation (and, with `num_edges`, the graph it was taken with); if slot k starts a
transition, it also holds the action, reward and termination flags of that transition,
and the transition's next observation is the observation of slot (k + 1) % capacity.
Within an episode `add(obs_t, ..., obs_t+1)` followed by `add(obs_t+1, ...)` reuses the
slot holding obs_t+1 (checked with `np.array_equal` at storage precision), so an episode
of L transitions takes L + 1 slots: the slot holding its final next observation starts
no transition. A slot is "valid" iff it starts a stored transition; only valid slots are
sampled. Writes advance one slot at a time, so overwriting slot j destroys exactly the
transition starting at j (the one starting at j - 1 is always the one just written);
`capacity` slots therefore hold at most `capacity - 1` transitions.

Memory layout (C = capacity slots, N agents, d = obs_dim, E = num_edges, A = action_dim):
  observations  obs_dtype [C, N, d]
  actions       int32 [C, N] (discrete) or float32 [C, N, A] (continuous)
  rewards       float32 [C, N]
  terminated    bool [C, N]
  senders, receivers  int32 [C, E] each (only with num_edges)
  valid_slots, position  int32 [C] each (the set of valid slots, for O(1) sampling;
                int64 if C >= 2**31)
Bytes per slot = N*d*s + (4*N or 4*N*A) + 4*N + N + 8*E + 8, with s = 2 (float16) or 4
(float32); an episode of L transitions costs (L + 1) / L slots per transition. For
N = 200, d = 26, float32, discrete actions: 20800 + 800 + 800 + 200 + 8 = 22608 bytes
per slot, 22.6 GB (21.1 GiB) for 10**6 slots; storing obs and next_obs would need
43408 bytes per transition.

`keras_ip.replay_device.DeviceReplayBuffer` keeps the same layout in tf.Variables on a device
(a GPU), for `replay_on_device=True`.

Checkpoints (`state_dict`) hold only the slots written so far: a 10**6-slot buffer saved
after 1500 steps costs 1500 slots on disk, not 10**6.

Complexity: `add` is O(N*d + E) (one or two slot writes, O(1) valid-set updates);
`sample` is O(B*(N*d + E)), independent of the capacity (uniform draws with
replacement from the dense list of valid slots).
"""

from __future__ import annotations

import json
from typing import NamedTuple

import numpy as np

from keras_ip._checks import check_int


class Batch(NamedTuple):
    """B joint transitions of N agents, as sampled by `ReplayBuffer.sample`."""

    observations: np.ndarray  # float32 [B, N, obs_dim]
    actions: np.ndarray  # int32 [B, N] or float32 [B, N, action_dim]
    rewards: np.ndarray  # float32 [B, N]
    next_observations: np.ndarray  # float32 [B, N, obs_dim]
    dones: np.ndarray  # float32 [B, N], 1.0 where the agent terminated (truncation is not done)
    senders: np.ndarray | None  # int32 [B, E], the graph of `observations`
    receivers: np.ndarray | None  # int32 [B, E]
    next_senders: np.ndarray | None  # int32 [B, E], the graph of `next_observations`
    next_receivers: np.ndarray | None  # int32 [B, E]


BOOKKEEPING = ("valid_slots", "position")  # the rest of the layout is transition data, one row per slot
SLOT_OBSERVATION = ("observations", "senders", "receivers")  # a slot's joint observation (edges if stored)


def _layout(capacity, num_agents, obs_dim, action_dim, num_edges, obs_dtype) -> dict:
    """name -> (shape, dtype) of every preallocated array; the one memory formula."""
    index_dtype = np.int32 if capacity < 2**31 else np.int64
    actions = ((capacity, num_agents), np.int32) if action_dim is None else \
        ((capacity, num_agents, action_dim), np.float32)
    layout = {"observations": ((capacity, num_agents, obs_dim), np.dtype(obs_dtype)),
              "actions": actions,
              "rewards": ((capacity, num_agents), np.float32),
              "terminated": ((capacity, num_agents), np.bool_),
              "valid_slots": ((capacity,), index_dtype),
              "position": ((capacity,), index_dtype)}
    if num_edges is not None:
        layout["senders"] = layout["receivers"] = ((capacity, num_edges), np.int32)
    return layout


def _checked(name: str, value, shape: tuple, kinds: str, dtype) -> np.ndarray:
    """`value` as an array of `dtype`, after checking its shape and dtype kind (e.g. "iu")."""
    array = np.asarray(value)
    if array.shape != shape:
        raise ValueError(f"{name} must have shape {shape}. Received shape {array.shape}.")
    if array.dtype.kind not in kinds:
        raise ValueError(f"{name} must have a dtype of kind {kinds!r}. Received dtype {array.dtype}.")
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported below
        array = array.astype(dtype, copy=False)
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        raise ValueError(f"{name} must be finite in {np.dtype(dtype).name}. Received a value "
                         f"{array[~np.isfinite(array)].flat[0]}.")
    return array


class ReplayBuffer:
    """Uniform replay of joint transitions, storing each observation once (see module doc).

    Example:
      >>> buffer = ReplayBuffer(capacity=1000, num_agents=4, obs_dim=3, seed=0)
      >>> obs = np.zeros([4, 3], np.float32)
      >>> buffer.add(obs, np.zeros(4, int), np.ones(4), obs + 1, False, False)
      >>> buffer.sample(8).next_observations.shape
      (8, 4, 3)

    Init args:
      capacity: number of observation slots C >= 2 (holds at most C - 1 transitions).
      num_agents: N.
      obs_dim: d, per-agent observation size.
      action_dim: None for discrete int32 actions [N]; A for float32 actions [N, A].
      num_edges: None for a static graph (no edges stored); E to store each slot's
        (senders, receivers) int32 [E].
      obs_dtype: floating storage dtype of observations (float16 halves their memory;
        `sample` returns float32 either way).
      seed: seed of the buffer's own `np.random.Generator`, used when `sample` gets none.
    """

    def __init__(self, capacity: int, num_agents: int, obs_dim: int, action_dim: int | None = None,
                 num_edges: int | None = None, obs_dtype=np.float32, seed=None):
        config = self._checked_config(capacity, num_agents, obs_dim, action_dim, num_edges, obs_dtype)
        _, self._num_agents, self._obs_dim, self._action_dim, self._num_edges, _ = config
        self._layout = _layout(*config)
        self._arrays = {name: np.zeros(shape, dtype) for name, (shape, dtype) in self._layout.items()
                        if name in BOOKKEEPING}
        self._arrays["position"].fill(-1)  # position[k] = index of slot k in valid_slots, -1 if invalid
        self._allocate_data({name: spec for name, spec in self._layout.items() if name not in BOOKKEEPING})
        self._num_valid = 0
        self._cursor = -1  # slot holding the latest next observation, -1 before the first add
        self._filled = 0  # slots [0, filled) have been written (writes go 0, 1, 2, ... around the ring)
        self._open = False  # whether the episode of that next observation may continue
        self._rng = np.random.default_rng(seed)

    @staticmethod
    def _checked_config(capacity, num_agents, obs_dim, action_dim, num_edges, obs_dtype) -> tuple:
        if np.dtype(obs_dtype).kind != "f":
            raise ValueError(f"obs_dtype must be a floating dtype. Received: obs_dtype={obs_dtype!r}")
        return (check_int("capacity", capacity, minimum=2), check_int("num_agents", num_agents),
                check_int("obs_dim", obs_dim),
                None if action_dim is None else check_int("action_dim", action_dim),
                None if num_edges is None else check_int("num_edges", num_edges), np.dtype(obs_dtype))

    @staticmethod
    def estimate_nbytes(capacity: int, num_agents: int, obs_dim: int, action_dim: int | None = None,
                        num_edges: int | None = None, obs_dtype=np.float32) -> int:
        """Bytes the buffer with these init args would allocate, without allocating them."""
        layout = _layout(*ReplayBuffer._checked_config(capacity, num_agents, obs_dim, action_dim, num_edges,
                                                       obs_dtype))
        return sum(int(np.prod(shape)) * np.dtype(dtype).itemsize for shape, dtype in layout.values())

    @property
    def capacity(self) -> int:
        """Number of observation slots C."""
        return self._layout["position"][0][0]

    @property
    def nbytes(self) -> int:
        """Bytes of all preallocated arrays (equals `estimate_nbytes` of the init args)."""
        return sum(array.nbytes for array in self._arrays.values()) + self._data_nbytes()

    @property
    def bytes_per_transition(self) -> int:
        """Bytes per slot; a transition costs one slot, plus one slot per episode."""
        return self.nbytes // self.capacity

    @property
    def valid(self) -> np.ndarray:
        """bool [C]: whether each slot starts a transition that `sample` may return."""
        return self._arrays["position"] >= 0

    def __len__(self) -> int:
        """Number of transitions that can be sampled."""
        return self._num_valid

    def _set_valid(self, slot: int, valid: bool) -> None:
        """Adds `slot` to / removes it from the dense set valid_slots[:num_valid] in O(1)."""
        valid_slots, position = self._arrays["valid_slots"], self._arrays["position"]
        index = position[slot]
        if valid and index < 0:
            valid_slots[self._num_valid], position[slot] = slot, self._num_valid
            self._num_valid += 1
        elif not valid and index >= 0:
            self._num_valid -= 1
            last = valid_slots[self._num_valid]
            valid_slots[index], position[last] = last, index
            position[slot] = -1

    def _checked_edges(self, name: str, edges) -> tuple | None:
        if self._num_edges is None:
            if edges is not None:
                raise ValueError(f"{name} must be None for a buffer without num_edges. Received: {name}={edges!r}")
            return None
        if edges is None or len(edges) != 2:
            raise ValueError(f"{name} must be a pair (senders, receivers) of int arrays [{self._num_edges}]. "
                             f"Received: {name}={edges!r}")
        pair = tuple(_checked(f"{name}[{i}]", e, (self._num_edges,), "iu", np.int32) for i, e in enumerate(edges))
        for i, indices in enumerate(pair):
            if indices.min() < 0 or indices.max() >= self._num_agents:
                raise ValueError(f"{name}[{i}] must hold agent indices in [0, {self._num_agents}). Received "
                                 f"min {indices.min()}, max {indices.max()}.")
        return pair

    def _checked_flags(self, name: str, flags) -> np.ndarray:
        """bool [N] from a bool [N] or a bool scalar applying to every agent."""
        shape = () if np.ndim(flags) == 0 else (self._num_agents,)
        return np.broadcast_to(_checked(name, flags, shape, "b", np.bool_), (self._num_agents,))

    def _write_observation(self, slot: int, observations: np.ndarray, edges: tuple | None) -> None:
        """Overwrites slot's observation, destroying the transition that started there."""
        self._set_valid(slot, False)
        self._filled = max(self._filled, slot + 1)
        self._store(slot, observations=observations, **({} if edges is None else
                                                        {"senders": edges[0], "receivers": edges[1]}))

    def _continues(self, observations: np.ndarray, edges: tuple | None) -> bool:
        """Whether `observations` (and edges) are the stored latest next observation."""
        if not self._open:
            return False
        stored = self._latest_observation()
        if not np.array_equal(observations, stored["observations"]):
            return False
        return edges is None or (np.array_equal(edges[0], stored["senders"])
                                 and np.array_equal(edges[1], stored["receivers"]))

    # Storage of the transition data: numpy arrays here, overridden by `DeviceReplayBuffer`.
    def _allocate_data(self, layout: dict) -> None:
        """Allocates the transition data: name -> (shape, dtype), one row per slot."""
        self._data = {name: np.zeros(shape, dtype) for name, (shape, dtype) in layout.items()}

    def _data_nbytes(self) -> int:
        return sum(array.nbytes for array in self._data.values())

    def _store(self, slot: int, **rows) -> None:
        """Writes each named row (e.g. observations=[N, d]) into slot `slot`."""
        for name, row in rows.items():
            self._data[name][slot] = row

    def _latest_observation(self) -> dict:
        """The observation (and edges) of the slot at the write cursor."""
        return {name: self._data[name][self._cursor] for name in SLOT_OBSERVATION if name in self._data}

    def _gather(self, slots: np.ndarray) -> Batch:
        """The transitions starting at `slots` int [B], as a Batch."""
        next_slots = (slots + 1) % self.capacity  # [B]
        a = self._data
        edges = (a["senders"][slots], a["receivers"][slots], a["senders"][next_slots],
                 a["receivers"][next_slots]) if self._num_edges is not None else (None,) * 4
        return Batch(a["observations"][slots].astype(np.float32), a["actions"][slots], a["rewards"][slots],
                     a["observations"][next_slots].astype(np.float32), a["terminated"][slots].astype(np.float32),
                     *edges)

    def _written_data(self, copy: bool) -> dict:
        """Each transition-data array's first `filled` rows."""
        return {name: array[:self._filled].copy() if copy else array[:self._filled]
                for name, array in self._data.items()}

    def _load_data(self, state, filled: int) -> None:
        """Writes the saved rows into the first `filled` slots and zeros into the rest."""
        for name, array in self._data.items():
            array[:filled] = state[name]
            array[filled:] = 0

    def add(self, observations, actions, rewards, next_observations, terminated, truncated,
            edges=None, next_edges=None) -> None:
        """Stores one joint transition.

        Args:
          observations: float [N, obs_dim], finite.
          actions: int [N] (discrete) or float [N, action_dim] (continuous).
          rewards: float [N], finite.
          next_observations: float [N, obs_dim], finite.
          terminated: bool [N] or a scalar for all agents; terminated agents are not
            bootstrapped (`Batch.dones`).
          truncated: bool [N] or a scalar; ends the episode but is not a done.
          edges: (senders, receivers) int [E] each, the graph of `observations`;
            required iff `num_edges` was given.
          next_edges: the same for `next_observations`.

        The episode ends when every agent is terminated or truncated; the next `add`
        then starts a new slot. A new slot is also started whenever `observations`
        differ from the previous `next_observations`.
        """
        n, d, obs_dtype = self._num_agents, self._obs_dim, self._layout["observations"][1]
        observations = _checked("observations", observations, (n, d), "fiu", obs_dtype)
        next_observations = _checked("next_observations", next_observations, (n, d), "fiu", obs_dtype)
        actions = _checked("actions", actions, (n,), "iu", np.int32) if self._action_dim is None else \
            _checked("actions", actions, (n, self._action_dim), "fiu", np.float32)
        rewards = _checked("rewards", rewards, (n,), "fiu", np.float32)
        terminated, truncated = self._checked_flags("terminated", terminated), self._checked_flags("truncated", truncated)
        edges, next_edges = self._checked_edges("edges", edges), self._checked_edges("next_edges", next_edges)

        if self._continues(observations, edges):
            slot = self._cursor
        else:
            slot = (self._cursor + 1) % self.capacity
            self._write_observation(slot, observations, edges)
        self._store(slot, actions=actions, rewards=rewards, terminated=terminated)
        self._cursor = (slot + 1) % self.capacity
        self._write_observation(self._cursor, next_observations, next_edges)
        self._set_valid(slot, True)
        self._open = not np.all(terminated | truncated)

    def sample(self, batch_size: int, rng: np.random.Generator | None = None) -> Batch:
        """Draws `batch_size` valid transitions uniformly, with replacement.

        Args:
          batch_size: B >= 1.
          rng: generator to draw with; the buffer's own (seeded at init) if None.

        Returns:
          A `Batch` of B transitions (edge fields None without `num_edges`).
        """
        batch_size = check_int("batch_size", batch_size)
        if self._num_valid == 0:
            raise ValueError(f"Cannot sample from an empty ReplayBuffer. Received: batch_size={batch_size}")
        rng = self._rng if rng is None else rng
        slots = self._arrays["valid_slots"][rng.integers(0, self._num_valid, size=batch_size)]  # [B]
        return self._gather(slots)

    @staticmethod
    def concatenate(parts: list) -> Batch:
        """Batches sampled from several buffers -> one Batch."""
        return Batch(*[None if fields[0] is None else np.concatenate(fields) for fields in zip(*parts)])

    def state_dict(self, copy: bool = True) -> dict[str, np.ndarray | int]:
        """The buffer's contents, np.savez-able: only what was written, so a checkpoint of a
        large, mostly empty buffer stays small.

        Keys: each per-slot array (observations, actions, rewards, terminated, senders,
        receivers, position) cut to its first `filled` slots, the written ones;
        valid_slots cut to its first num_valid entries; and the scalars capacity, filled,
        num_valid, cursor, open and rng_state.

        Args:
          copy: False returns views into the buffer instead of copies (no extra memory when
            saving; valid until the next `add`).
        """
        valid_slots, position = self._arrays["valid_slots"][:self._num_valid], self._arrays["position"][:self._filled]
        arrays = {"valid_slots": valid_slots.copy() if copy else valid_slots,
                  "position": position.copy() if copy else position, **self._written_data(copy)}
        return {**arrays, "capacity": self.capacity, "filled": self._filled, "num_valid": self._num_valid,
                "cursor": self._cursor,
                "open": int(self._open), "rng_state": np.array(json.dumps(self._rng.bit_generator.state))}

    def load_state_dict(self, state) -> None:
        """Restores a `state_dict` of a buffer with the same init args (exact round trip)."""
        expected = set(self._layout) | {"capacity", "filled", "num_valid", "cursor", "open", "rng_state"}
        if set(state) != expected:
            raise ValueError(f"state must have keys {sorted(expected)}. Received keys {sorted(state)}.")
        if int(state["capacity"]) != self.capacity:  # slot k's next observation is slot k + 1 mod C
            raise ValueError(f"state['capacity'] must equal this buffer's capacity {self.capacity}. "
                             f"Received: capacity={int(state['capacity'])}")
        num_valid = int(state["num_valid"])
        filled = int(state["filled"])
        if not 0 <= num_valid <= filled <= self.capacity:
            raise ValueError(f"state must have 0 <= num_valid <= filled <= capacity = {self.capacity}. Received: "
                             f"num_valid={num_valid}, filled={filled}")
        for name, (shape, dtype) in self._layout.items():
            rows = num_valid if name == "valid_slots" else filled
            if np.shape(state[name]) != (rows, *shape[1:]) or np.asarray(state[name]).dtype != dtype:
                raise ValueError(f"state[{name!r}] must be {np.dtype(dtype).name} {(rows, *shape[1:])} for this "
                                 f"buffer. Received {np.asarray(state[name]).dtype} {np.shape(state[name])}.")
        if num_valid != np.count_nonzero(np.asarray(state["position"]) >= 0):
            raise ValueError(f"state['num_valid'] must count the slots with position >= 0. "
                             f"Received: num_valid={state['num_valid']!r}")
        for name, array in self._arrays.items():
            saved = np.asarray(state[name])
            array[:len(saved)] = saved
            array[len(saved):] = -1 if name == "position" else 0
        self._load_data(state, filled)
        self._filled = filled
        self._num_valid, self._cursor = num_valid, int(state["cursor"])
        self._open = bool(state["open"])
        self._rng.bit_generator.state = json.loads(str(state["rng_state"]))


class ReplayStreams:
    """One `ReplayBuffer` per environment copy (each stores its copy's episodes once),
    sampled as one: uniform over all stored transitions.

    Init args:
      num_streams: K copies; each buffer gets capacity // K slots.
      capacity, **kwargs: as for `ReplayBuffer` (seed k + the given seed for stream k).
      buffer_type: `ReplayBuffer`, or `keras_ip.replay_device.DeviceReplayBuffer` to keep the
        transitions on a device.
    """

    def __init__(self, num_streams: int, capacity: int, num_agents: int, obs_dim: int, seed=None,
                 buffer_type=ReplayBuffer, **kwargs):
        num_streams = check_int("num_streams", num_streams)
        self.capacity, self.buffer_type = capacity, buffer_type
        self.obs_dtype = np.dtype(kwargs.get("obs_dtype", np.float32))
        self.buffers = [buffer_type(capacity // num_streams, num_agents, obs_dim, seed=None if seed is None else
                                    seed + k, **kwargs) for k in range(num_streams)]
        self._rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return sum(len(buffer) for buffer in self.buffers)

    @property
    def nbytes(self) -> int:
        return sum(buffer.nbytes for buffer in self.buffers)

    @property
    def bytes_per_transition(self) -> int:
        return self.buffers[0].bytes_per_transition

    def add(self, stream: int, *args, **kwargs) -> None:
        """`ReplayBuffer.add` on copy `stream`'s buffer."""
        self.buffers[stream].add(*args, **kwargs)

    def sample(self, batch_size: int, rng: np.random.Generator | None = None) -> Batch:
        """`batch_size` transitions drawn uniformly over every stream's transitions."""
        rng = self._rng if rng is None else rng
        if len(self.buffers) == 1:
            return self.buffers[0].sample(batch_size, rng)
        sizes = np.array([len(buffer) for buffer in self.buffers])
        counts = np.bincount(rng.choice(len(sizes), size=check_int("batch_size", batch_size), p=sizes / sizes.sum()),
                             minlength=len(sizes))
        parts = [buffer.sample(count, rng) for buffer, count in zip(self.buffers, counts) if count > 0]
        return self.buffers[0].concatenate(parts)

    def state_dict(self, copy: bool = True) -> dict:
        """Every stream's `state_dict`, keys prefixed "stream_k/" (plain keys for one stream)."""
        if len(self.buffers) == 1:
            return self.buffers[0].state_dict(copy)
        return {f"stream_{k}/{name}": value for k, buffer in enumerate(self.buffers)
                for name, value in buffer.state_dict(copy).items()}

    def load_state_dict(self, state) -> None:
        if len(self.buffers) == 1:
            return self.buffers[0].load_state_dict(state)
        for k, buffer in enumerate(self.buffers):
            prefix = f"stream_{k}/"
            buffer.load_state_dict({name[len(prefix):]: value for name, value in state.items()
                                    if name.startswith(prefix)})
