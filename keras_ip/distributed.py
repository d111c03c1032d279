"""Several worker processes for one update: `tf.distribute.MultiWorkerMirroredStrategy`.

Layout: the chief (worker 0) collects, holds the replay and samples each update's batch; every
worker process builds the same agent in the strategy's scope (its variables start as the chief's:
the strategy broadcasts their initial values) and runs `serve_updates(agent)`. For each update the
chief broadcasts a command (UPDATE), then the batch and policy noise; every worker takes its
rows of the batch, computes their gradients, and the optimisers sum the gradients across workers,
so every copy of the networks takes the same step, the one a single process would take on the
whole batch. `agent.close()` on the chief (or `release_workers`) sends STOP and the workers'
loops return.

The broadcasts are sums over workers of the chief's values and the others' zeros (an all-reduce,
which every collective implementation has).

    # on every machine, with TF_CONFIG naming the cluster and this task:
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    agent = keras_ip.IPAgent(env, strategy=strategy, seed=0, ...)
    if keras_ip.distributed.is_chief(strategy):
        agent.fit(steps); agent.save(path); agent.close()
    else:
        keras_ip.distributed.serve_updates(agent)
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

WAIT, UPDATE, STOP = 0, 1, 2  # the chief's commands; WAIT is what the other workers send

__all__ = ["from_chief", "is_chief", "serve_updates", "worker_role", "zero_batch"]


def worker_role(strategy) -> tuple[bool, bool]:
    """(whether `strategy` spans several worker processes, whether this process is the chief)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) or resolver is None:
        return False, True
    cluster = resolver.cluster_spec().as_dict()
    workers = sum(len(tasks) for tasks in cluster.values())
    return workers > 1, is_chief(strategy)


def is_chief(strategy) -> bool:
    """True in the process that collects and saves: the "chief" task, else worker 0, else a single process."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.cluster_spec().as_dict():
        return True
    if resolver.task_type == "chief":
        return True
    return resolver.task_type == "worker" and resolver.task_id == 0 and "chief" not in resolver.cluster_spec().as_dict()


def from_chief(values, chief: bool):
    """The chief's `values` (a tensor, or a NamedTuple of tensors and Nones) on every worker.

    Call in a replica context. Each field is summed over workers, the chief contributing its
    value and the others zeros; integer fields travel as float32 (exact below 2**24).
    """
    context = tf.distribute.get_replica_context()

    def one(value):
        if value is None:
            return None
        value = tf.convert_to_tensor(value)
        # a new op in the replica's device scope: a collective needs a placed input, and a tf.function
        # argument (or a no-op cast of one) has no device
        mine = tf.identity(tf.cast(value, tf.float32)) if chief else tf.zeros(tf.shape(value), tf.float32)
        return tf.cast(context.all_reduce(tf.distribute.ReduceOp.SUM, mine), value.dtype)

    if isinstance(values, tuple) and hasattr(values, "_fields"):
        return type(values)(*[one(field) for field in values])
    return one(values)


def broadcast_command(strategy, value: int):
    """The chief's command `value` (UPDATE or STOP; the others pass WAIT) on every worker, an int32 scalar."""
    chief = worker_role(strategy)[1]

    def replica():
        mine = tf.constant(float(value) if chief else 0.0)
        return tf.distribute.get_replica_context().all_reduce(tf.distribute.ReduceOp.SUM, mine)

    return tf.cast(strategy.experimental_local_results(strategy.run(replica))[0], tf.int32)


def zero_batch(agent):
    """A `keras_ip.replay.Batch` of zeros shaped as the chief's update batches of `agent` (static graphs)."""
    from keras_ip.replay import Batch  # pylint: disable=import-outside-toplevel

    if agent.graph_schedule is not None:
        raise ValueError("Several workers need a static agent graph: the batch shapes must not change. "
                         f"Received: graph={agent.config.graph!r}")
    adapter, size = agent.adapter, agent.config.batch_size
    observations = np.zeros((size, adapter.num_agents, adapter.obs_dim), np.float32)
    actions = (np.zeros((size, adapter.num_agents), np.int32) if adapter.discrete
               else np.zeros((size, adapter.num_agents, adapter.action_dim), np.float32))
    rewards = np.zeros((size, adapter.num_agents), np.float32)
    return Batch(observations, actions, rewards, observations, rewards, None, None, None, None)


def serve_updates(agent) -> int:
    """Runs, on a non-chief worker, every update the chief's `agent.fit` starts, until the chief's
    `agent.close()`. Returns the number of updates run."""
    return agent.learner.serve(zero_batch(agent))
