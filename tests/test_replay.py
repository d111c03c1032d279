"""Tests of keras_ip.replay: exact pairing of sampled transitions, wrap-around, memory."""

import doctest

import numpy as np
import pytest

from keras_ip import replay
from keras_ip.replay import ReplayBuffer
from tests.replay_helpers import A, D, END, GO, N, Recorder, episode, graph, observation


def test_one_episode_pairs_every_observation_with_its_successor_storing_it_once():
    recorder = Recorder(ReplayBuffer(10, N, D, seed=0))
    episode(recorder, 0, 4)
    assert recorder.sampled() == {(0, 1, 0, GO), (1, 2, 1, GO), (2, 3, 2, GO),
                                  (3, 4, 3, END)}
    assert len(recorder.buffer) == 4
    np.testing.assert_array_equal(recorder.buffer.valid, [True] * 4 + [False] * 6)


def test_terminated_is_done_truncated_is_not_and_each_episode_gets_one_extra_slot():
    recorder = Recorder(ReplayBuffer(10, N, D, seed=0))
    episode(recorder, 0, 2, end="truncated")
    episode(recorder, 10, 1, end="terminated")
    recorder.add(20, 21, terminated=np.array([True, False, False]))  # agent 0 terminated, episode continues
    recorder.add(21, 22, terminated=np.array([False, True, True]), truncated=np.array([True, False, False]))
    assert recorder.sampled() == {(0, 1, 0, GO), (1, 2, 1, GO), (10, 11, 2, END),
                                  (20, 21, 3, (1.0, 0.0, 0.0)), (21, 22, 4, (0.0, 1.0, 1.0))}
    np.testing.assert_array_equal(recorder.buffer.valid, [1, 1, 0, 1, 0, 1, 1, 0, 0, 0])


def test_a_new_episode_starts_a_new_slot_even_if_it_begins_with_the_terminal_observation():
    recorder = Recorder(ReplayBuffer(10, N, D, seed=0))
    recorder.add(0, 1, truncated=True)
    recorder.add(1, 2, terminated=True)
    np.testing.assert_array_equal(recorder.buffer.valid[:4], [True, False, True, False])
    assert recorder.sampled() == {(0, 1, 0, GO), (1, 2, 1, END)}


def test_a_discontinuous_add_never_pairs_with_the_stale_next_observation():
    recorder = Recorder(ReplayBuffer(10, N, D, seed=0))
    recorder.add(0, 1)
    recorder.add(5, 6)  # reset without ending the episode
    recorder.add(6, 7)
    np.testing.assert_array_equal(recorder.buffer.valid[:5], [True, False, True, True, False])
    assert recorder.sampled() == {(0, 1, 0, GO), (5, 6, 1, GO), (6, 7, 2, GO)}


@pytest.mark.parametrize("capacity, length, episodes, expected", [
    (2, 1, 4, {(6, 7, 3, END)}),  # episodes of length 1: a transition and its terminal slot
    (3, 1, 4, {(6, 7, 3, END)}),  # slots 0,1 | 2,0 | 1,2 | 0,1: each episode destroys the one before
    (3, 8, 1, {(6, 7, 6, GO), (7, 8, 7, END)}),  # one long episode: the last C - 1 transitions
    (5, 2, 2, {(1, 2, 1, END), (3, 4, 2, GO), (4, 5, 3, END)}),  # slots 0,1,2 | 3,4,0: only t=0 is lost
    (5, 4, 2, {(5, 6, 4, GO), (6, 7, 5, GO), (7, 8, 6, GO), (8, 9, 7, END)}),
])
def test_wraparound_keeps_exactly_the_transitions_whose_two_slots_survive(capacity, length, episodes, expected):
    recorder = Recorder(ReplayBuffer(capacity, N, D, seed=0))
    for k in range(episodes):
        episode(recorder, k * (length + 1), length)
    assert recorder.sampled() == expected == recorder.expected()
    assert len(recorder.buffer) == len(expected)


@pytest.mark.parametrize("capacity", [2, 3, 5, 17])
@pytest.mark.parametrize("seed", range(4))
def test_randomized_episodes_sample_exactly_the_transitions_still_within_capacity(capacity, seed):
    rng = np.random.default_rng(seed)
    odd = bool(seed % 2)  # odd seeds: continuous actions and per-slot graphs
    recorder = Recorder(ReplayBuffer(capacity, N, D, action_dim=A if odd else None, num_edges=2 if odd else None,
                                     seed=seed), continuous=odd, edges=odd)
    next_id = 0
    for _ in range(60):
        obs_id, next_id = next_id, next_id + 1
        if rng.random() < 0.1:  # discontinuous add: a fresh id
            obs_id, next_id = obs_id + 1, next_id + 1
        recorder.add(obs_id, next_id, terminated=rng.random(N) < 0.2, truncated=rng.random() < 0.1)
        if not recorder.open:
            next_id += 1
        assert len(recorder.buffer) == len(recorder.expected())
        assert set(recorder.decode(recorder.buffer.sample(32))) <= recorder.expected()
    assert recorder.sampled(3000) == recorder.expected()


def test_continuous_actions_and_float16_storage_round_trip_to_float32():
    recorder = Recorder(ReplayBuffer(6, N, D, action_dim=A, obs_dtype=np.float16, seed=0), continuous=True)
    episode(recorder, 0, 3)
    batch = recorder.buffer.sample(4)
    assert batch.actions.dtype == batch.observations.dtype == batch.next_observations.dtype == np.float32
    assert batch.actions.shape == (4, N, A)
    assert recorder.sampled() == recorder.expected() and len(recorder.expected()) == 3
    assert recorder.buffer.nbytes < ReplayBuffer(6, N, D, action_dim=A).nbytes


def test_edges_are_stored_per_slot_with_the_next_graph_from_the_following_slot():
    buffer = ReplayBuffer(8, N, D, num_edges=2, seed=0)
    recorder = Recorder(buffer, edges=True)
    episode(recorder, 0, 3)
    batch = buffer.sample(16)
    assert batch.senders.shape == batch.next_receivers.shape == (16, 2) and batch.senders.dtype == np.int32
    assert recorder.sampled() == recorder.expected()
    buffer.add(**good_add(next_observations=np.zeros((N, D)), edges=graph(0), next_edges=graph(1)))
    buffer.add(**good_add(edges=graph(2), next_edges=graph(2)))  # same observation, another graph
    np.testing.assert_array_equal(buffer.valid[4:], [True, False, True, False])
    recorder = Recorder(ReplayBuffer(8, N, D, seed=0))
    recorder.add(0, 1)
    assert recorder.buffer.sample(1).senders is None


def test_state_dict_round_trip_through_npz_restores_samples_and_write_position(tmp_path):
    recorder = Recorder(ReplayBuffer(5, N, D, num_edges=2, seed=3), edges=True)
    episode(recorder, 0, 3)
    episode(recorder, 10, 2)
    np.savez(tmp_path / "replay.npz", **recorder.buffer.state_dict())
    restored = ReplayBuffer(5, N, D, num_edges=2, seed=99)
    with np.load(tmp_path / "replay.npz") as state:
        restored.load_state_dict(dict(state))
    for buffer in (recorder.buffer, restored):  # same future: one more continuous add, then samples
        buffer.add(observation(12), recorder.action(5), np.ones(N), observation(13), False, False,
                   edges=graph(12), next_edges=graph(13))
    original, copy = recorder.buffer.state_dict(), restored.state_dict()
    assert original.keys() == copy.keys()
    for key in original:
        np.testing.assert_array_equal(original[key], copy[key], err_msg=key)
    for _ in range(3):
        a, b = recorder.buffer.sample(7), restored.sample(7)
        for field, x, y in zip(a._fields, a, b):
            np.testing.assert_array_equal(x, y, err_msg=field)


def same_future(first, second, first_id):
    """Both buffers get one more episode and must then hold and sample the same transitions."""
    for buffer in (first, second):
        recorder = Recorder(buffer)
        episode(recorder, first_id, 2)
    for _ in range(3):
        a, b = first.sample(6, np.random.default_rng(1)), second.sample(6, np.random.default_rng(1))
        for field, x, y in zip(a._fields, a, b):
            np.testing.assert_array_equal(x, y, err_msg=field)


@pytest.mark.parametrize("episodes", [[3], [3, 2, 4]], ids=["partly filled", "wrapped around"])
def test_state_dict_holds_only_the_written_slots_and_round_trips(tmp_path, episodes):
    buffer = ReplayBuffer(8, N, D, seed=3)
    recorder = Recorder(buffer)
    for k, length in enumerate(episodes):
        episode(recorder, 20 * k, length)
    state = buffer.state_dict()
    written = min(sum(length + 1 for length in episodes), 8)  # an episode of L transitions takes L + 1 slots
    assert state["filled"] == written and state["observations"].shape == (written, N, D)
    assert state["valid_slots"].shape == (len(buffer),)
    np.savez(tmp_path / "replay.npz", **buffer.state_dict(copy=False))
    restored = ReplayBuffer(8, N, D, seed=99)
    with np.load(tmp_path / "replay.npz") as saved:
        restored.load_state_dict(dict(saved))
    assert len(restored) == len(buffer)
    same_future(buffer, restored, 100)


def test_a_checkpoint_of_a_large_mostly_empty_buffer_is_small(tmp_path):
    buffer = ReplayBuffer(100_000, 20, 26)  # 212 MB preallocated
    for t in range(10):
        buffer.add(np.full((20, 26), t), np.zeros(20, int), np.zeros(20), np.full((20, 26), t + 1), False, False)
    np.savez(tmp_path / "replay.npz", **buffer.state_dict(copy=False))
    assert buffer.nbytes > 200e6 and (tmp_path / "replay.npz").stat().st_size < 50_000


def test_load_state_dict_rejects_another_capacity_even_when_the_contents_would_fit():
    buffer = ReplayBuffer(6, N, D)
    episode(Recorder(buffer), 0, 2)  # 3 of 6 slots written
    with pytest.raises(ValueError, match=r"capacity 8\. Received: capacity=6"):
        ReplayBuffer(8, N, D).load_state_dict(buffer.state_dict())


def test_load_state_dict_rejects_a_buffer_of_another_shape():
    state = ReplayBuffer(5, N, D).state_dict()
    with pytest.raises(ValueError, match=r"state\['observations'\]"):
        ReplayBuffer(5, N, D + 1).load_state_dict(state)
    with pytest.raises(ValueError, match="keys"):
        ReplayBuffer(5, N, D, num_edges=2).load_state_dict(state)


@pytest.mark.parametrize("kwargs", [{}, {"action_dim": 4}, {"num_edges": 6}, {"obs_dtype": np.float16}])
def test_estimate_nbytes_equals_the_real_allocation_and_the_documented_formula(kwargs):
    buffer = ReplayBuffer(7, 5, 11, **kwargs)
    assert ReplayBuffer.estimate_nbytes(7, 5, 11, **kwargs) == buffer.nbytes
    obs_bytes = 5 * 11 * np.dtype(kwargs.get("obs_dtype", np.float32)).itemsize
    action_bytes = 4 * 5 * kwargs.get("action_dim", 1)
    assert buffer.bytes_per_transition == obs_bytes + action_bytes + 4 * 5 + 5 + 8 * kwargs.get("num_edges", 0) + 8
    assert buffer.nbytes == 7 * buffer.bytes_per_transition


def test_observations_stored_once_take_about_half_of_an_obs_plus_next_obs_layout():
    buffer = ReplayBuffer(100, 200, 26)
    two_copies = 2 * 4 * 200 * 26 + 4 * 200 + 4 * 200 + 200  # obs, next_obs, actions, rewards, dones
    assert buffer.bytes_per_transition < 0.55 * two_copies


def test_a_million_transitions_of_200_agents_fit_in_24_gib_without_allocating(monkeypatch):
    def no_allocation(*args, **kwargs):
        raise AssertionError("estimate_nbytes allocated an array")

    monkeypatch.setattr(np, "zeros", no_allocation)
    slots = 10**6 + 10**6 // 25  # plus one extra slot per 25-step episode
    nbytes = ReplayBuffer.estimate_nbytes(slots, 200, 26)
    assert nbytes == slots * 22608 and nbytes < 24 * 2**30


def good_add(**overrides):
    args = {"observations": np.zeros((N, D)), "actions": np.zeros(N, int), "rewards": np.zeros(N),
            "next_observations": np.ones((N, D)), "terminated": False, "truncated": False}
    return {**args, **overrides}


@pytest.mark.parametrize("overrides, match", [
    ({"observations": np.zeros((N, D + 1))}, r"observations must have shape \(3, 3\). Received shape \(3, 4\)"),
    ({"next_observations": np.full((N, D), np.nan)}, "next_observations must be finite.*nan"),
    ({"rewards": np.array([0.0, 0.0, np.inf])}, "rewards must be finite.*inf"),
    ({"rewards": np.zeros(N + 1)}, r"rewards must have shape \(3,\)"),
    ({"actions": np.zeros(N)}, "actions must have a dtype of kind 'iu'. Received dtype float64"),
    ({"terminated": np.zeros(N + 1, bool)}, r"terminated must have shape \(3,\)"),
    ({"truncated": 0}, "truncated must have a dtype of kind 'b'"),
    ({"edges": graph(0), "next_edges": graph(1)}, "edges must be None.*Received: edges="),
])
def test_add_rejects_bad_arguments_naming_them_and_leaves_the_buffer_unchanged(overrides, match):
    buffer = ReplayBuffer(4, N, D)
    before = buffer.state_dict()
    with pytest.raises(ValueError, match=match):
        buffer.add(**good_add(**overrides))
    assert len(buffer) == 0 and all(np.array_equal(before[k], v) for k, v in buffer.state_dict().items())


@pytest.mark.parametrize("edges, match", [
    (None, r"edges must be a pair \(senders, receivers\)"),
    ((np.array([0, 3]), np.array([1, 0])), r"edges\[0\] must hold agent indices in \[0, 3\). Received min 0, max 3"),
    ((np.array([0, 1]), np.array([-1, 0])), r"edges\[1\] must hold agent indices .* min -1"),
    ((np.array([0, 1, 0]), np.array([1, 0, 1])), r"edges\[0\] must have shape \(2,\)"),
])
def test_add_rejects_missing_or_out_of_range_edges(edges, match):
    buffer = ReplayBuffer(4, N, D, num_edges=2)
    with pytest.raises(ValueError, match=match):
        buffer.add(**good_add(edges=edges, next_edges=graph(0)))


def test_float16_storage_rejects_observations_that_overflow_it():
    with pytest.raises(ValueError, match="observations must be finite in float16. Received a value inf"):
        ReplayBuffer(4, N, D, obs_dtype=np.float16).add(**good_add(observations=np.full((N, D), 1e6)))


@pytest.mark.parametrize("make, match", [
    (lambda: ReplayBuffer(1, N, D), "capacity must be an integer >= 2. Received: capacity=1"),
    (lambda: ReplayBuffer(4, 0, D), "num_agents must be an integer >= 1. Received: num_agents=0"),
    (lambda: ReplayBuffer(4, N, D, action_dim=2.0), "action_dim must be an integer"),
    (lambda: ReplayBuffer(4, N, D, obs_dtype=np.int8), "obs_dtype must be a floating dtype"),
    (lambda: ReplayBuffer(4, N, D).sample(1), "empty ReplayBuffer"),
    (lambda: ReplayBuffer(4, N, D).sample(0), "batch_size must be an integer >= 1. Received: batch_size=0"),
])
def test_init_and_sample_errors_name_the_argument(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_sample_uses_the_given_rng_and_is_deterministic_for_a_seed():
    recorder = Recorder(ReplayBuffer(50, N, D, seed=0))
    episode(recorder, 0, 20)
    first = recorder.buffer.sample(10, rng=np.random.default_rng(1)).observations
    second = recorder.buffer.sample(10, rng=np.random.default_rng(1)).observations
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first, recorder.buffer.sample(10, rng=np.random.default_rng(2)).observations)


def test_module_docstring_example_runs():
    assert doctest.testmod(replay, raise_on_error=False).failed == 0
