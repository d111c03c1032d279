"""What the replay tests share: distinctive transitions and a model of which ones a buffer must
still hold (`Recorder`), and whole episodes of them (`episode`)."""

import numpy as np

N, D, A = 3, 3, 2  # agents, obs_dim, continuous action_dim
GO, END = (0.0,) * N, (1.0,) * N  # dones of a running and of a terminated transition


def observation(i):
    """float [N, D], distinct for every id i < 256 and exact in float16."""
    return np.full((N, D), float(i)) + np.arange(N)[:, None] * 0.5 + np.arange(D) * 0.125


def graph(i):
    """(senders, receivers) int [2]: one link over N = 3 agents in both directions, distinct for ids mod 3."""
    a, b = i % 3, (i + 1) % 3
    return np.array([a, b]), np.array([b, a])


class Recorder:
    """Adds distinctive transitions and models which ones the buffer must still hold.

    Observations are identified by an id; transition t has action/reward derived from t.
    The model logs every observation write: a transition is sampleable iff its first
    observation is among the last `capacity` writes (then so is its next observation).
    """

    def __init__(self, buffer, continuous=False, edges=False):
        self.buffer, self.continuous, self.edges = buffer, continuous, edges
        self.log, self.starts, self.transitions, self.open = [], [], [], False

    def action(self, t):
        return t + np.arange(N * A).reshape(N, A) * 0.25 if self.continuous else t * N + np.arange(N)

    def add(self, obs_id, next_id, terminated=False, truncated=False):
        t = len(self.transitions)
        graphs = {"edges": graph(obs_id), "next_edges": graph(next_id)} if self.edges else {}
        self.buffer.add(observation(obs_id), self.action(t), t + 0.5 + np.arange(N) * 0.25, observation(next_id),
                        terminated, truncated, **graphs)
        if not (self.open and self.log[-1] == obs_id):
            self.log.append(obs_id)
        self.starts.append(len(self.log) - 1)
        self.log.append(next_id)
        dones = tuple(np.broadcast_to(np.asarray(terminated, np.float32), (N,)).tolist())
        self.transitions.append((obs_id, next_id, t, dones))
        self.open = not np.all(np.asarray(terminated) | np.asarray(truncated))

    def expected(self):
        oldest = len(self.log) - self.buffer.capacity
        return {tr for start, tr in zip(self.starts, self.transitions) if start >= oldest}

    def decode(self, batch):
        """Sampled rows as (obs_id, next_id, t, dones), after checking every array matches."""
        rows = []
        for b in range(len(batch.observations)):
            obs_id, next_id = round(batch.observations[b, 0, 0]), round(batch.next_observations[b, 0, 0])
            t = round(float(batch.rewards[b, 0] - 0.5))
            np.testing.assert_array_equal(batch.observations[b], observation(obs_id).astype(np.float32))
            np.testing.assert_array_equal(batch.next_observations[b], observation(next_id).astype(np.float32))
            np.testing.assert_array_equal(batch.actions[b], self.action(t))
            np.testing.assert_array_equal(batch.rewards[b], np.float32(t + 0.5 + np.arange(N) * 0.25))
            if self.edges:
                np.testing.assert_array_equal((batch.senders[b], batch.receivers[b]), graph(obs_id))
                np.testing.assert_array_equal((batch.next_senders[b], batch.next_receivers[b]), graph(next_id))
            rows.append((obs_id, next_id, t, tuple(batch.dones[b].tolist())))
        return rows

    def sampled(self, batch_size=2000, rng=None):
        return set(self.decode(self.buffer.sample(batch_size, rng=rng)))


def episode(recorder, first_id, length, end="terminated"):
    """Adds obs ids first_id -> first_id + 1 -> ... -> first_id + length, ending with `end`."""
    for i in range(first_id, first_id + length):
        last = i == first_id + length - 1
        recorder.add(i, i + 1, terminated=last and end == "terminated", truncated=last and end == "truncated")
