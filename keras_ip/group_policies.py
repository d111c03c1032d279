"""Which agent groups learn, and how the others act (the paper's predator-prey protocol).

Appendix D.2 trains one side of a predator-prey game while the other keeps a fixed policy
("we fix good agents' policies and use all the methods to learn the adversaries' policies").
`train_groups` names the groups that learn (group names as `keras_ip.envs.adapter.group_of`
gives them: "adversary_0" -> "adversary"); every other group acts by its fixed policy:

  "random"         uniformly random valid actions (the default for a group left out of
                   `train_groups` and given no fixed policy);
  a keras-ip agent  any `Estimator` (e.g. one loaded with `IPAgent.load`) over the same
                   agents: its `predict` on the environment's observation dict;
  a callable       `policy(observations: dict) -> dict`: it receives the whole observation
                   dict of the live agents, as `env.step` returned it, and its actions for
                   the group's agents are used (others in its reply are ignored).

The learners see the fixed agents as part of the environment: their transitions are stored
(the trained agents' critics read their actions), but no loss is taken over their rows, and
in the policy loss their actions are the replayed ones, not samples of the learned policy.
"""

from __future__ import annotations

import numpy as np

RANDOM = "random"


class GroupPolicies:
    """The trained agents of an environment and the fixed policies of the other groups.

    Init args:
      adapter: the environment's `ParallelEnvAdapter`.
      train_groups: group names that learn, or None for every group.
      fixed_policies: {group name: "random" | keras-ip agent | callable}, for groups outside
        `train_groups` (groups outside it and absent here act at random).

    Attributes:
      trained: bool [N], True for the rows of agents whose group learns.
      all_trained: True when every group learns (no fixed policy acts).
      kinds: {group: "random" | "agent" | "callable"} for every fixed group (what `save` keeps).
    """

    def __init__(self, adapter, train_groups=None, fixed_policies=None):
        self.adapter = adapter
        names = list(adapter.group_names)
        if train_groups is None:
            train_groups = [name for name in names if name not in (fixed_policies or {})]
        if isinstance(train_groups, str) or not all(isinstance(g, str) for g in train_groups):
            raise TypeError(f"train_groups must be a list of group names. Received: train_groups={train_groups!r}")
        train_groups = list(train_groups)
        fixed_policies = dict(fixed_policies or {})
        for argument, groups in (("train_groups", train_groups), ("fixed_policies", list(fixed_policies))):
            unknown = sorted(set(groups) - set(names))
            if unknown:
                raise ValueError(f"{argument} names unknown agent groups {unknown}; this environment's groups are "
                                 f"{names}. Received: {argument}={groups!r}")
        if not train_groups:
            raise ValueError(f"train_groups must name at least one group to learn; the groups are {names}. "
                             f"Received: train_groups={train_groups!r}")
        both = sorted(set(train_groups) & set(fixed_policies))
        if both:
            raise ValueError(f"Groups {both} are both in train_groups and given a fixed policy; a group either learns "
                             f"or acts by a fixed policy. Received: train_groups={train_groups!r}, "
                             f"fixed_policies={sorted(fixed_policies)!r}")
        for group, policy in fixed_policies.items():
            if not (policy == RANDOM or callable(policy) or hasattr(policy, "predict")):
                raise TypeError(f'fixed_policies[{group!r}] must be "random", a keras-ip agent or a callable '
                                f"observations dict -> actions dict. Received: {policy!r}")
        self.train_groups = [name for name in names if name in train_groups]
        self.policies = {name: fixed_policies.get(name, RANDOM) for name in names if name not in train_groups}
        self.kinds = {name: _kind(policy) for name, policy in self.policies.items()}
        trained_ids = [names.index(name) for name in self.train_groups]
        self.trained = np.isin(adapter.group_ids, trained_ids)  # [N]
        self.all_trained = bool(self.trained.all())
        self._rows = {name: np.flatnonzero(adapter.group_ids == names.index(name)) for name in self.policies}

    def trained_weights(self):
        """float32 [N] loss weights (1 for trained agents), or None when every agent learns."""
        return None if self.all_trained else self.trained.astype(np.float32)

    def apply(self, actions, observations, alive, rng: np.random.Generator, positions=lambda: None):
        """The learned policy's actions with the fixed groups' rows replaced by their fixed policies'.

        Args:
          actions: int [K, N] or float [K, N, k], the actions of K environment copies.
          observations: float32 [K, N, obs_dim], the stacked observations they were chosen for.
          alive: bool [K, N], the agents still in each copy's episode.
          rng: draws the random groups' actions.
          positions: callable () -> float [K, N, 2] agent positions or None, called only when a
            fixed policy is a keras-ip agent (it may need them for its k-NN graph).
        Returns:
          `actions` itself when every group learns, else a copy with the fixed rows replaced.
        """
        if self.all_trained:
            return actions
        actions = np.array(actions)
        positions = positions() if "agent" in self.kinds.values() else None
        for group, policy in self.policies.items():
            rows = self._rows[group]
            for k in range(actions.shape[0]):
                if policy == RANDOM:
                    actions[k, rows] = self.adapter.random_actions(rng)[rows]
                    continue
                observation_dict = self.adapter.observation_dict(observations[k], alive[k])
                if hasattr(policy, "predict"):
                    chosen = policy.predict(observation_dict, positions=None if positions is None else positions[k])
                else:
                    chosen = policy(observation_dict)
                for row in rows:
                    agent = self.adapter.agents[row]
                    if agent in observation_dict:
                        if agent not in chosen:
                            raise ValueError(f"The fixed policy of group {group!r} returned no action for {agent}. "
                                             f"Received actions for: {sorted(chosen)}")
                        actions[k, row] = self.adapter.action_row(chosen[agent])
        return actions


def _kind(policy) -> str:
    if policy == RANDOM:
        return RANDOM
    return "agent" if hasattr(policy, "predict") else "callable"
