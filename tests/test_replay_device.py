"""Tests of keras_ip.replay_device: the device replay holds and samples exactly what the host
replay does, its batches are device tensors, and agents train identically with either."""

import numpy as np
import pytest
import tensorflow as tf

from keras_ip import IPAgent
from keras_ip.replay import ReplayBuffer, ReplayStreams
from keras_ip.replay_device import DeviceReplayBuffer
from tests.replay_helpers import A, D, N, Recorder, episode

SETTINGS = [
    dict(),
    dict(num_edges=2),
    dict(action_dim=A, obs_dtype=np.float16),
]


def fill(buffer, continuous=False, edges=False):
    """Episodes of 3, 1 (truncated) and 4 transitions: 10 slots, so a capacity of 8 wraps."""
    recorder = Recorder(buffer, continuous=continuous, edges=edges)
    episode(recorder, 0, 3)
    episode(recorder, 10, 1, end="truncated")
    episode(recorder, 20, 4)
    return recorder


def pair(capacity=8, **kwargs):
    host, device = ReplayBuffer(capacity, N, D, seed=0, **kwargs), DeviceReplayBuffer(capacity, N, D, seed=0, **kwargs)
    for buffer in (host, device):
        fill(buffer, continuous="action_dim" in kwargs, edges="num_edges" in kwargs)
    return host, device


def assert_same_batch(host_batch, device_batch):
    for field, x, y in zip(host_batch._fields, host_batch, device_batch):
        if x is None:
            assert y is None, field
        else:
            assert isinstance(y, tf.Tensor), field
            np.testing.assert_array_equal(x, y.numpy(), err_msg=field)
            assert x.dtype == y.numpy().dtype, field


@pytest.mark.parametrize("kwargs", SETTINGS, ids=["discrete", "edges", "continuous float16"])
def test_same_draws_give_the_same_batches_as_the_host_buffer(kwargs):
    host, device = pair(**kwargs)
    assert len(device) == len(host) > 0 and device.nbytes == host.nbytes
    np.testing.assert_array_equal(device.valid, host.valid)
    for seed in range(3):
        assert_same_batch(host.sample(16, np.random.default_rng(seed)), device.sample(16, np.random.default_rng(seed)))


def test_device_batches_decode_to_the_stored_transitions():
    buffer = DeviceReplayBuffer(8, N, D, seed=0, num_edges=2)
    recorder = fill(buffer, edges=True)
    batch = buffer.sample(500)
    assert set(recorder.decode(type(batch)(*[None if f is None else f.numpy() for f in batch]))) == recorder.expected()


def test_variables_live_on_the_requested_device():
    buffer = DeviceReplayBuffer(4, N, D, device="/CPU:0")
    assert all(v.device.endswith("CPU:0") for v in buffer._data.values())
    fill(buffer)
    assert buffer.sample(2).observations.device.endswith("CPU:0")


@pytest.mark.parametrize("kwargs", SETTINGS, ids=["discrete", "edges", "continuous float16"])
def test_state_dict_equals_the_host_buffers_and_round_trips_across_kinds(kwargs, tmp_path):
    host, device = pair(**kwargs)
    host_state, device_state = host.state_dict(), device.state_dict()
    assert host_state.keys() == device_state.keys()
    for key in host_state:
        np.testing.assert_array_equal(host_state[key], device_state[key], err_msg=key)
        assert np.asarray(host_state[key]).dtype == np.asarray(device_state[key]).dtype, key
    np.savez(tmp_path / "replay.npz", **device_state)
    restored = DeviceReplayBuffer(8, N, D, seed=5, **kwargs)
    with np.load(tmp_path / "replay.npz") as saved:
        restored.load_state_dict(dict(saved))
    more = dict(continuous="action_dim" in kwargs, edges="num_edges" in kwargs)
    for buffer in (host, restored):  # one more episode continuing the same ring, then equal samples
        episode(Recorder(buffer, **more), 40, 2)
    assert_same_batch(host.sample(16, np.random.default_rng(9)), restored.sample(16, np.random.default_rng(9)))


def test_add_continues_an_episode_after_load():
    """After load, the first add compares its observation with the cursor's slot read back from the device."""
    buffer = DeviceReplayBuffer(8, N, D, seed=0)
    recorder = Recorder(buffer)
    recorder.add(0, 1)
    restored = DeviceReplayBuffer(8, N, D, seed=0)
    restored.load_state_dict(buffer.state_dict())
    Recorder(restored).add(1, 2)  # continues: obs 1 is already stored at the cursor
    assert restored.state_dict()["filled"] == 3  # slots 0, 1, 2; a new episode would have taken 4


def test_streams_of_device_buffers_concatenate_tensors():
    streams = ReplayStreams(2, 16, N, D, seed=0, buffer_type=DeviceReplayBuffer)
    for k in range(2):
        fill(streams.buffers[k])
    batch = streams.sample(10)
    assert isinstance(batch.observations, tf.Tensor) and batch.observations.shape == (10, N, D)


def test_streams_sharing_a_batch_unevenly_do_not_retrace_the_gather():
    """Each stream's share of a batch varies from draw to draw; the compiled gather is traced once."""
    streams = ReplayStreams(2, 16, N, D, seed=0, buffer_type=DeviceReplayBuffer)
    for k in range(2):
        fill(streams.buffers[k], edges=False)
    for batch_size in (3, 7, 10, 16):
        streams.sample(batch_size)
    for buffer in streams.buffers:
        buffer.sample(5)
        assert buffer._gather_on_device.experimental_get_tracing_count() == 1


def test_agents_train_identically_with_the_replay_on_the_host_or_the_device(make_agent, weights_of):
    host = make_agent().fit(48, progress_bar=False)
    device = make_agent(replay_on_device=True).fit(48, progress_bar=False)
    assert isinstance(device.replay.buffers[0], DeviceReplayBuffer) and device.num_updates == host.num_updates > 0
    for h, d in zip(weights_of(host), weights_of(device)):
        np.testing.assert_allclose(h, d, rtol=1e-6, atol=1e-7)


def test_agent_with_device_replay_saves_and_loads_it(make_agent, tmp_path):
    agent = make_agent(replay_on_device=True).fit(40, progress_bar=False)
    loaded = IPAgent.load(agent.save(tmp_path / "agent", include_replay=True))
    assert isinstance(loaded.replay.buffers[0], DeviceReplayBuffer) and len(loaded.replay) == len(agent.replay)
    first, second = agent.replay.sample(8, np.random.default_rng(3)), loaded.replay.sample(8, np.random.default_rng(3))
    for field, x, y in zip(first._fields, first, second):
        if x is not None:
            np.testing.assert_array_equal(x.numpy(), y.numpy(), err_msg=field)


def test_replay_on_device_must_be_a_bool(make_agent):
    with pytest.raises(ValueError, match="replay_on_device must be True or False. Received: replay_on_device=1"):
        make_agent(replay_on_device=1)
