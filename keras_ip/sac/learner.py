"""Soft actor-critic for intention propagation (paper section 4.2, algorithm 1, appendix I).

One compiled `train_step(batch) -> dict of scalar tensors`; optimisers and the Polyak
target update live here, counters and logging outside.
"""

from __future__ import annotations

import contextlib
import math

import tensorflow as tf

from keras_ip import distributed
from keras_ip._checks import check_int
from keras_ip.graphs.topology import Graph
from keras_ip.learner_base import LearnerBase, polyak_update, rewards_and_dones
from keras_ip.networks import ActionSpec, Networks
from keras_ip.sac import losses
from keras_ip.sac.policy import critic_action_features, policy_noise, policy_terms, replayed_q


def part(values, parts: int, index):
    """Rows [index * B / parts, (index + 1) * B / parts) of values [B, ...] (B divisible by parts)."""
    values = tf.convert_to_tensor(values)
    return tf.reshape(values, tf.concat([[parts, -1], tf.shape(values)[1:]], 0))[index]


def batch_part(batch, parts: int, index):
    """The same rows of every (non-None) field of a `Batch`."""
    return type(batch)(*[None if field is None else part(field, parts, index) for field in batch])


def default_target_entropy(spec: ActionSpec) -> float:
    """Per-agent entropy target for alpha="auto": 0.98 log A (discrete; with groups of different
    action counts, 0.98 times the mean over groups of log A_g) or -k (continuous)."""
    return 0.98 * spec.mean_log_num_actions() if spec.discrete else -float(spec.action_dim)


class SACLearner(LearnerBase):
    """Owns the optimisers, the entropy weight and the compiled update of all networks.

    Init args:
      networks: from `keras_ip.networks.build_networks`.
      action_spec: the agents' `ActionSpec`.
      graph: the static agent graph, or None when every batch carries per-sample graphs.
      group_ids: int [N] agent groups when there are several (heterogeneous agents), else None.
      learning_rate: Adam learning rate of every network (see `IPConfig.learning_rate`).
      gamma: discount (paper: 0.95).
      tau: Polyak coefficient of the target value network (paper: 0.01).
      alpha: entropy weight (paper: 0.2), or "auto" to tune it towards `target_entropy`.
      target_entropy: per-agent entropy target for alpha="auto"; None = default above.
      gumbel_temperature: relaxation temperature of the discrete straight-through sample.
      jit_compile: compile the update with XLA.
      seed: int or None, seeds the sampling noise of the update.
      strategy: None, or a `tf.distribute.Strategy` whose scope created `networks`; each
        update's batch is then split evenly across its replicas (batch size divisible by
        their number), the gradients summed across them, and the policy noise drawn once
        for the whole batch, so the update equals the one-device update. With a
        `MultiWorkerMirroredStrategy` over several processes, the chief's `train_step` batch
        (and noise) is broadcast to every worker, whose processes run `serve()`
        (`keras_ip.distributed`).
      trained_weights: float [N], 1 for the agents that learn and 0 for those of groups with a
        fixed policy (no loss over their rows; in the policy loss their actions are the
        replayed ones), or None when every agent learns.
      max_chunk_agents: a batch of more agent-samples (batch size x N) is processed in
        equal chunks of at most this many (if the batch size allows), one after another,
        to bound peak memory; the update is the same.

    `train_step(batch)` takes a `keras_ip.replay.Batch` (numpy or tensors) and returns a dict
    of scalars: critic_loss, value_loss, policy_loss, alpha_loss, alpha, entropy, q.
    """

    def __init__(self, networks: Networks, action_spec: ActionSpec, graph: Graph | None, *, group_ids=None,
                 learning_rate: float = 1e-3,
                 gamma: float = 0.95, tau: float = 0.01, alpha=0.2, target_entropy=None,
                 gumbel_temperature: float = 1.0, jit_compile: bool = True, seed=None, strategy=None,
                 trained_weights=None, max_chunk_agents: int = 2**18):
        super().__init__(graph, group_ids, trained_weights)
        self.networks = networks
        self.max_chunk_agents = check_int("max_chunk_agents", max_chunk_agents)
        self.strategy = strategy
        self.action_spec = action_spec
        self.generator = (tf.random.Generator.from_seed(seed) if seed is not None
                          else tf.random.Generator.from_non_deterministic_state())
        with strategy.scope() if strategy else contextlib.nullcontext():
            self._make_variables(learning_rate, gamma, tau, alpha, target_entropy)
        self.gumbel_temperature = float(gumbel_temperature)
        self.multi_worker, self.is_chief = distributed.worker_role(strategy)
        if strategy is None:
            self.train_step = tf.function(self._train_step, jit_compile=jit_compile)
        else:  # collectives stay outside XLA: each replica's gradients are compiled, the sum is not
            self._compiled_gradients = tf.function(self._chunked_gradients, jit_compile=jit_compile)
            self._compiled_step = tf.function(self._distributed_train_step)
            self.train_step = self._chief_train_step if self.multi_worker else self._compiled_step
            self._command = tf.function(lambda value: distributed.broadcast_command(strategy, value))

    def _make_variables(self, learning_rate, gamma, tau, alpha, target_entropy):
        """The entropy weight, discount, Polyak coefficient and optimisers (in the strategy's scope)."""
        networks, action_spec = self.networks, self.action_spec
        # Variables, not Python floats, so changing them never retraces the compiled step.
        self.gamma = tf.Variable(float(gamma), trainable=False, name="gamma")
        self.tau = tf.Variable(float(tau), trainable=False, name="tau")
        self.auto_alpha = alpha == "auto"
        if not self.auto_alpha and (isinstance(alpha, str) or not alpha > 0):
            raise ValueError(f'alpha must be a positive number or "auto". Received: alpha={alpha!r}')
        self.target_entropy = float(default_target_entropy(action_spec) if target_entropy is None else target_entropy)
        self.log_alpha = tf.Variable(0.0 if self.auto_alpha else math.log(alpha), trainable=self.auto_alpha,
                                     dtype=tf.float32, name="log_alpha")
        make_adam = lambda: tf.keras.optimizers.Adam(learning_rate)  # noqa: E731
        self.actor_optimizer, self.critic_optimizer, self.value_optimizer, self.alpha_optimizer = (
            make_adam(), make_adam(), make_adam(), make_adam())
        self._trained = [(self.actor_optimizer, networks.actor.trainable_variables),
                         (self.critic_optimizer, networks.critics.trainable_variables),
                         (self.value_optimizer, networks.value.trainable_variables)]
        if self.auto_alpha:
            self._trained.append((self.alpha_optimizer, [self.log_alpha]))
        for optimizer, variables in self._trained + [(self.alpha_optimizer, [self.log_alpha])]:
            optimizer.build(variables)  # slots exist before the first (compiled) step and in checkpoints

    def set_hyperparameters(self, learning_rate=None, gamma=None, tau=None, alpha=None):
        """Changes hyperparameters of a live learner without rebuilding or retracing anything."""
        if learning_rate is not None:
            for optimizer in (self.actor_optimizer, self.critic_optimizer, self.value_optimizer, self.alpha_optimizer):
                optimizer.learning_rate.assign(learning_rate)
        if alpha is not None and not self.auto_alpha:
            self.log_alpha.assign(math.log(alpha))
        if gamma is not None:
            self.gamma.assign(gamma)
        if tau is not None:
            self.tau.assign(tau)

    def _train_step(self, batch):
        gradients, metrics = self._chunked_gradients(batch, self._noise(batch))
        self._apply(gradients)
        self._update_target()
        return metrics

    def _distributed_train_step(self, batch):
        noise = self._noise(batch)  # drawn once for the whole batch, as on one device
        per_replica = self.strategy.run(self._replica_step, args=(batch, noise))
        self._update_target()
        return {name: self.strategy.reduce(tf.distribute.ReduceOp.MEAN, value, axis=None)
                for name, value in per_replica.items()}

    def _chief_train_step(self, batch):
        """Tells the workers an update follows (`serve`), then runs it with them."""
        self._command(distributed.UPDATE)
        return self._compiled_step(batch)

    def serve(self, zero_batch) -> int:
        """A non-chief worker's loop: runs every update the chief starts, until it calls `release_workers`.

        Args:
          zero_batch: a `Batch` of zeros with the shapes of the chief's batches (its values are
            replaced by the chief's inside the update).
        Returns:
          the number of updates run.
        """
        if not self.multi_worker or self.is_chief:
            raise RuntimeError("serve() runs on the non-chief workers of a MultiWorkerMirroredStrategy.")
        updates = 0
        while int(self._command(distributed.WAIT)) == distributed.UPDATE:
            self._compiled_step(zero_batch)
            updates += 1
        return updates

    def release_workers(self):
        """The chief ends the workers' `serve` loops (safe to call twice; nothing without workers)."""
        if self.multi_worker and self.is_chief and not getattr(self, "_released", False):
            self._command(distributed.STOP)
            self._released = True

    def _replica_step(self, batch, noise):
        """This replica's rows of the batch -> gradients / replicas, summed across replicas by the optimisers."""
        if self.multi_worker:  # the chief's batch and noise on every worker
            batch, noise = distributed.from_chief(batch, self.is_chief), distributed.from_chief(noise, self.is_chief)
        context = tf.distribute.get_replica_context()
        replicas, replica = context.num_replicas_in_sync, context.replica_id_in_sync_group
        batch_size = int(batch.observations.shape[0])
        if batch_size % replicas:
            raise ValueError(f"The batch size must be divisible by the {replicas} replicas. Received: "
                             f"batch_size={batch_size}")

        gradients, metrics = self._compiled_gradients(batch_part(batch, replicas, replica),
                                                      part(noise, replicas, replica))
        self._apply([gradient / replicas for gradient in gradients])
        return metrics

    def _chunked_gradients(self, batch, noise):
        """`_gradients` of the whole batch, computed chunk by chunk when it holds more than
        `max_chunk_agents` agent-samples (peak memory follows the chunk, not the batch).

        The chunks are equal row ranges, run one after another in a loop; the mean of their
        gradients (and metrics) is the whole batch's, since every loss is a mean.
        """
        batch_size, num_agents = (int(d) for d in batch.observations.shape[:2])
        chunks = next(c for c in range(1, batch_size + 1)
                      if batch_size % c == 0 and batch_size * num_agents <= c * self.max_chunk_agents
                      or c == batch_size)
        if chunks == 1:
            return self._gradients(batch, noise)

        def body(index, gradient_sums, metric_sums):
            gradients, metrics = self._gradients(batch_part(batch, chunks, index), part(noise, chunks, index))
            return (index + 1, [s + g for s, g in zip(gradient_sums, gradients)],
                    {name: metric_sums[name] + value for name, value in metrics.items()})

        variables = [v for _, group in self._trained for v in group]
        metric_names = ("critic_loss", "value_loss", "policy_loss", "alpha_loss", "alpha", "entropy", "q")
        _, gradient_sums, metric_sums = tf.while_loop(
            lambda index, *_: index < chunks, body,
            (tf.constant(0), [tf.zeros_like(v) for v in variables], {name: 0.0 for name in metric_names}))
        return [g / chunks for g in gradient_sums], {name: value / chunks for name, value in metric_sums.items()}

    def _noise(self, batch):
        """The policy noise of every agent in the batch, [B * N, A or k]."""
        return policy_noise(self.generator, tf.size(tf.convert_to_tensor(batch.rewards)), self.action_spec)

    def _apply(self, gradients):
        for optimizer, variables in self._trained:
            optimizer.apply_gradients(zip(gradients[:len(variables)], variables))
            gradients = gradients[len(variables):]

    def _update_target(self):
        polyak_update(self.networks.target_value.variables, self.networks.value.variables, self.tau)

    def _gradients(self, batch, noise):
        """Every network's gradient of its own loss, from one forward and one backward pass.

        Each loss reaches only its own network's variables: the TD and value targets carry
        no gradient, and the policy term reads the critics with frozen weights. So one
        backward pass of the losses' sum gives each network exactly its own loss's gradient.
        Returns (gradients in the order of `self._trained`, metrics).
        """
        nets, spec = self.networks, self.action_spec
        graph, next_graph = self.transition_graphs(batch)
        rewards, dones = rewards_and_dones(batch)                          # [B * N] each
        flat_actions = tf.reshape(batch.actions, tf.concat([[-1], tf.shape(batch.actions)[2:]], axis=0))
        alpha = tf.exp(self.log_alpha)
        q_target = losses.td_target(rewards, dones, nets.target_value(next_graph), self.gamma)
        weights = self.agent_weights(batch)                                # [B * N] or None
        replayed_features = None if weights is None else critic_action_features(flat_actions, spec)

        # Name scopes label each part's ops (and "gradient_tape/<scope>" their gradients) for
        # benchmarks/throughput.py's FLOP breakdown.
        with tf.GradientTape() as tape:
            # The critics' state part is computed once, for the replayed and the sampled actions.
            with tf.name_scope("critics_state"):
                critic_state = nets.critics.state_features(graph)
            with tf.name_scope("critics_replayed"):
                q = replayed_q(nets.critics, critic_state, flat_actions, spec)         # [B * N, 2]
            critic_loss = losses.critic_loss(q[:, 0], q[:, 1], q_target, weights)
            frozen_state = critic_state.frozen()

            def min_q(actions):  # differentiable in the actions only
                if weights is not None:  # agents with a fixed policy act as replayed, not as the learned policy
                    actions = tf.where(weights[:, None] > 0, actions, replayed_features)
                with tf.name_scope("critics_sampled"):
                    return tf.reduce_min(nets.critics.q_values(frozen_state, actions, frozen=True), axis=1)

            # One forward pass of the policy and critics serves the value target and the policy loss.
            q_pi, log_pi = policy_terms(nets.actor(graph), min_q, spec, noise, self.gumbel_temperature)
            value_loss = losses.value_loss(nets.value(graph), q_pi, log_pi, alpha, weights)
            policy_loss = losses.policy_loss(log_pi, q_pi, alpha, weights)
            alpha_loss = losses.alpha_loss(self.log_alpha, log_pi, self.target_entropy, weights)
            total = critic_loss + value_loss + policy_loss + (alpha_loss if self.auto_alpha else 0.0)
        gradients = tape.gradient(total, [v for _, variables in self._trained for v in variables])
        metrics = {"critic_loss": critic_loss, "value_loss": value_loss, "policy_loss": policy_loss,
                   "alpha_loss": alpha_loss, "alpha": alpha, "entropy": -losses.agent_mean(log_pi, weights),
                   "q": losses.agent_mean(q[:, 0], weights)}
        return gradients, metrics

    def checkpoint_objects(self) -> dict:
        """Everything a `tf.train.Checkpoint` must hold to resume training exactly."""
        nets = self.networks
        return dict(actor=nets.actor, critics=nets.critics, value=nets.value,
                    target_value=nets.target_value, actor_optimizer=self.actor_optimizer,
                    critic_optimizer=self.critic_optimizer, value_optimizer=self.value_optimizer,
                    alpha_optimizer=self.alpha_optimizer, log_alpha=self.log_alpha, generator=self.generator)

