"""Stacked numpy arrays in and out of any PettingZoo `ParallelEnv`, in a fixed agent order.

Learners see N agents as rows of arrays (row i is `env.possible_agents[i]`), not as
dicts. Agents that have left the episode keep their row: zero observation, zero
reward, `terminated` True, and no action is sent for them.

Agents fall into groups by name ("adversary_0" -> "adversary", "red_3" -> "red"). Groups
may have different observation sizes (the paper's heterogeneous navigation): rows are
zero-padded to the largest size and `group_ids` tells the networks which encoder each
row needs. Groups may also have different Discrete action spaces (magent2's
adversarial_pursuit: predators Discrete(13), prey Discrete(9)): the networks then have one
head of max_g A_g actions, and agent i may only pick the first `group_num_actions[g_i]`
(`action_mask`). Box action spaces must be the same for every agent.

Where the environment has agent positions (keras-ip's own scenarios, mpe2's particle
worlds, magent2's grid worlds), `positions()` returns them for k-NN graphs.
"""

from __future__ import annotations

import gymnasium
import numpy as np


class ParallelEnvAdapter:
    """Wraps a `ParallelEnv` so that reset and step speak float32 [N, ...] arrays.

    Example:
      >>> from keras_ip.envs import CoordinationGame
      >>> adapter = ParallelEnvAdapter(CoordinationGame(rows=2, cols=2))
      >>> adapter.reset(seed=0).shape
      (4, 1)
      >>> obs, rewards, terminated, truncated, infos = adapter.step(np.array([1, 1, 1, 1]))
      >>> rewards.tolist(), truncated.tolist()
      ([0.0, 0.0, 0.0, 0.0], [True, True, True, True])

    Init args:
      env: a PettingZoo `ParallelEnv` whose agents share an observation space shape
        (Box) and an action space (Discrete with start 0, or Box with finite bounds).

    Attributes:
      agents: list of N agent names, `env.possible_agents` in order.
      num_agents: N.
      obs_dim: flattened observation size d (the largest group's; smaller rows are zero-padded).
      group_names, group_ids, group_obs_dims: the agent groups, each agent's group index
        int32 [N], and each group's own observation size.
      action_space: the shared gymnasium action space.
      discrete: True for a Discrete action space.
      num_actions: number of discrete actions, the largest group's (Discrete only).
      group_num_actions: each group's number of discrete actions (Discrete only).
      action_mask: bool [N, num_actions], True where agent i may pick the action (Discrete only).
      action_dim, action_low, action_high: flattened size and float32 [action_dim]
        bounds of a Box action space (Box only).
    """

    def __init__(self, env):
        self.env = env
        self.agents = list(env.possible_agents)
        if not self.agents:
            raise ValueError(f"The environment has no agents. Received: possible_agents={env.possible_agents!r}")
        self.num_agents = len(self.agents)
        self._row_of = {agent: i for i, agent in enumerate(self.agents)}  # agent name -> its row
        self.group_names, self.group_ids, self.group_obs_dims = _observation_groups(env, self.agents)
        self.num_groups = len(self.group_names)
        self.obs_dim = max(self.group_obs_dims)
        self._row_sizes = np.asarray(self.group_obs_dims)[self.group_ids]  # [N]
        self._last_positions = None
        self.action_space = _shared_action_space(env, self.agents, self.group_ids, self.group_names)
        self.discrete = isinstance(self.action_space, gymnasium.spaces.Discrete)
        if self.discrete:
            self.group_num_actions = [int(env.action_space(self.agents[list(self.group_ids).index(g)]).n)
                                      for g in range(self.num_groups)]
            self.num_actions = int(self.action_space.n)
            self._agent_num_actions = np.asarray(self.group_num_actions)[self.group_ids]  # [N]
            self.action_mask = np.arange(self.num_actions)[None, :] < self._agent_num_actions[:, None]
        else:
            self.action_dim = int(np.prod(self.action_space.shape))
            self.action_low = np.asarray(self.action_space.low, np.float32).reshape(-1)
            self.action_high = np.asarray(self.action_space.high, np.float32).reshape(-1)
        self._finished = np.ones(self.num_agents, bool)  # [N], no episode yet

    @property
    def episode_over(self) -> bool:
        """True when every agent has terminated or truncated, or the env has no live agents."""
        return bool(self._finished.all()) or not self.env.agents

    @property
    def heterogeneous_actions(self) -> bool:
        """True when groups have Discrete action spaces of different sizes."""
        return self.discrete and len(set(self.group_num_actions)) > 1

    def reset(self, seed: int | None = None) -> np.ndarray:
        """Starts an episode. Returns observations float32 [N, obs_dim]."""
        observations, _ = self.env.reset(seed=seed)
        self._finished = np.zeros(self.num_agents, bool)
        return self.stack_observations(observations)

    def step(self, actions):
        """Sends one action per live agent and stacks what comes back.

        Args:
          actions: int [N] (Discrete) or float [N, action_dim] (Box), in agent order.
            Rows of agents that have left the episode are ignored.

        Returns:
          observations: float32 [N, obs_dim] (zeros for agents absent from the reply).
          rewards: float32 [N] (zero for absent agents).
          terminated: bool [N] (True for absent agents).
          truncated: bool [N] (False for absent agents).
          infos: the env's dict of per-agent infos, unchanged.
        """
        if self.episode_over:
            raise RuntimeError("The episode is over (or was never started); call reset() before step().")
        actions = self._check_actions(actions)
        live = set(self.env.agents)
        action_dict = {agent: self._env_action(actions[i]) for i, agent in enumerate(self.agents) if agent in live}
        observations, rewards, terminations, truncations, infos = self.env.step(action_dict)
        rewards = np.array([rewards.get(agent, 0.0) for agent in self.agents], np.float32)  # [N]
        terminated = np.array([bool(terminations.get(agent, True)) for agent in self.agents])  # [N]
        truncated = np.array([bool(truncations.get(agent, False)) for agent in self.agents])  # [N]
        self._finished |= terminated | truncated
        return self.stack_observations(observations), rewards, terminated, truncated, infos

    def random_actions(self, rng: np.random.Generator) -> np.ndarray:
        """Uniformly random valid actions: int64 [N] (Discrete) or float32 [N, action_dim] (Box)."""
        if self.discrete:
            if self.heterogeneous_actions:
                return rng.integers(0, self._agent_num_actions)
            return rng.integers(0, self.num_actions, size=self.num_agents)
        return rng.uniform(self.action_low, self.action_high, size=(self.num_agents, self.action_dim)).astype(
            np.float32)

    def _check_actions(self, actions) -> np.ndarray:
        actions = np.asarray(actions)
        if self.discrete:
            if actions.shape != (self.num_agents,) or not np.issubdtype(actions.dtype, np.integer):
                raise ValueError(f"Discrete actions must be an integer array of shape ({self.num_agents},). "
                                 f"Received: shape={actions.shape}, dtype={actions.dtype}")
            bad = np.flatnonzero((actions < 0) | (actions >= self._agent_num_actions))
            if bad.size:
                i = int(bad[0])
                raise ValueError(f"Action {int(actions[i])} of {self.agents[i]} is outside its action space "
                                 f"Discrete({int(self._agent_num_actions[i])}).")
            return actions
        if actions.shape != (self.num_agents, self.action_dim):
            raise ValueError(f"Box actions must have shape ({self.num_agents}, {self.action_dim}). "
                             f"Received: shape={actions.shape}")
        return actions.astype(np.float32)

    def action_dict(self, actions, agents) -> dict:
        """{agent: action} for `agents` (names) from the actions array [N] or [N, action_dim] in agent order,
        each in the form its action space takes (what `env.step` accepts)."""
        return {agent: self._env_action(actions[self._row_of[agent]]) for agent in agents}

    def action_row(self, action):
        """One agent's action as `env.step` takes it -> its row of the actions array (int, or float32 [action_dim])."""
        if self.discrete:
            return int(action)
        return np.asarray(action, np.float32).reshape(-1)

    def observation_dict(self, stacked, alive=None) -> dict:
        """float32 [N, obs_dim] stacked observations -> {agent: observation} shaped as its observation space
        (the padding dropped), for the agents where `alive` (bool [N], default all) is True."""
        alive = np.ones(self.num_agents, bool) if alive is None else alive
        return {agent: stacked[i, :self._row_sizes[i]].reshape(self.env.observation_space(agent).shape)
                for i, agent in enumerate(self.agents) if alive[i]}

    @property
    def alive(self) -> np.ndarray:
        """bool [N], the agents of the current episode that have not terminated or truncated."""
        return ~self._finished

    def _env_action(self, action):
        """One agent's row of the actions array, in the form its action space takes."""
        if self.discrete:
            return int(action)
        return action.reshape(self.action_space.shape).astype(self.action_space.dtype)

    def env_positions(self, env) -> np.ndarray | None:
        """float64 [N, 2] positions of this adapter's agents in another copy of the environment
        (e.g. the one a user steps), or None if it has none; agents it no longer holds get NaN."""
        found = _env_positions(env, self.agents)
        if found is None:
            return None
        positions, alive = found
        positions[~alive] = np.nan
        return positions

    def positions(self) -> np.ndarray | None:
        """float64 [N, 2] agent positions in agent order, or None if the env has none.

        Agents that have left the episode keep their last known position.
        """
        found = _env_positions(self.env, self.agents)
        if found is None:
            return None
        positions, alive = found
        if self._last_positions is not None:
            positions[~alive] = self._last_positions[~alive]
        self._last_positions = positions
        return positions

    def stack_observations(self, observations: dict) -> np.ndarray:
        """The environment's observation dict {agent: observation} -> float32 [N, obs_dim] in agent order,
        rows zero-padded to obs_dim; agents absent from the dict get a zero row.

        Raises ValueError for a name that is not one of the environment's agents, or an
        observation of the wrong size or with NaN/inf values.
        """
        unknown = sorted(set(observations) - set(self._row_of))
        if unknown:
            raise ValueError(f"The observations name agents this environment does not have: {unknown}. "
                             f"Its agents: {self.agents}")
        stacked = np.zeros((self.num_agents, self.obs_dim), np.float32)  # [N, obs_dim], zero padded
        for i, agent in enumerate(self.agents):
            if agent not in observations:
                continue
            row = np.asarray(observations[agent], np.float32).reshape(-1)
            if row.shape != (self._row_sizes[i],):
                raise ValueError(f"The observation of {agent} has {row.size} values; its space has "
                                 f"{self._row_sizes[i]}.")
            if not np.all(np.isfinite(row)):
                raise ValueError(f"The observation of {agent} holds NaN or infinite values. Received: {row}")
            stacked[i, :row.size] = row
        return stacked


def from_pettingzoo(env) -> "ParallelEnvAdapter":
    """Checks that `IPAgent` can drive a PettingZoo `ParallelEnv` and returns its adapter.

    Raises TypeError/ValueError naming what the environment does that keras-ip cannot
    handle (non-Box observations, different action spaces across agents, ...).
    """
    return ParallelEnvAdapter(env)


def group_of(agent: str) -> str:
    """The group an agent name belongs to: the name without a trailing "_<index>"."""
    prefix, _, index = agent.rpartition("_")
    return prefix if prefix and index.isdigit() else agent


def _observation_groups(env, agents: list) -> tuple:
    """(group names, int32 [N] group index per agent, flattened observation size per group)."""
    names, ids, sizes = [], [], []
    for agent in agents:
        space = env.observation_space(agent)
        if not isinstance(space, gymnasium.spaces.Box):
            raise TypeError(f"Observation spaces must be gymnasium Box spaces. Received: {agent} has {space}")
        group, size = group_of(agent), int(np.prod(space.shape))
        if group not in names:
            names.append(group)
            sizes.append(size)
        g = names.index(group)
        if sizes[g] != size:
            raise ValueError(f"Agents of one group must share an observation size; group {group!r} has {sizes[g]} "
                             f"and {size} ({agent}). Rename the agents so that each group is uniform.")
        ids.append(g)
    return names, np.asarray(ids, np.int32), sizes


def _env_positions(env, agents: list):
    """(float64 [N, 2] positions, bool [N] alive) from keras-ip, mpe2 or magent2 envs, else None."""
    base = getattr(env, "unwrapped", env)
    if callable(getattr(base, "agent_positions", None)):
        return np.array(base.agent_positions(), np.float64).reshape(len(agents), -1)[:, :2], np.ones(len(agents), bool)
    world = getattr(base, "world", None)
    if world is not None and hasattr(world, "agents"):  # mpe2 particle worlds
        by_name = {a.name: a.state.p_pos for a in world.agents}
        return np.array([by_name[a] for a in agents], np.float64), np.ones(len(agents), bool)
    engine, handles = getattr(base, "env", None), getattr(base, "handles", None)
    if engine is not None and handles is not None and hasattr(engine, "get_pos"):  # magent2 grid worlds
        positions, alive = np.zeros((len(agents), 2)), np.zeros(len(agents), bool)
        for handle in handles:
            ids = engine.get_agent_id(handle)  # global indices into possible_agents
            positions[ids] = engine.get_pos(handle)
            alive[ids] = True
        return positions, alive
    return None


def _shared_action_space(env, agents: list, group_ids, group_names) -> gymnasium.spaces.Space:
    """The one finite Box action space all agents share, or the largest of the groups' Discrete
    (start 0) spaces; within a group every agent has the same space."""
    spaces = [env.action_space(agent) for agent in agents]
    first_of_group = {}
    for agent, group, space in zip(agents, group_ids, spaces):
        other = first_of_group.setdefault(int(group), (agent, space))
        if space != other[1]:
            raise ValueError(f"Agents of one group must share an action space; group {group_names[group]!r} has "
                             f"{other[1]} ({other[0]}) and {space} ({agent}). Rename the agents so that each group "
                             "is uniform.")
    space = spaces[0]
    if all(isinstance(s, gymnasium.spaces.Discrete) for s in spaces):
        if any(s.start != 0 for s in spaces):
            raise ValueError(f"Discrete action spaces must start at 0. Received: "
                             f"start={next(s.start for s in spaces if s.start != 0)}")
        return max(spaces, key=lambda s: int(s.n))
    different = next((i for i, s in enumerate(spaces) if s != space), None)
    if different is not None:
        raise ValueError(f"Agents may have different action spaces only when they are all Discrete (one head, masked "
                         f"per group). Received: {agents[0]} has {space}, {agents[different]} has {spaces[different]}")
    if isinstance(space, gymnasium.spaces.Discrete):
        if space.start != 0:
            raise ValueError(f"Discrete action spaces must start at 0. Received: start={space.start}")
        return space
    if isinstance(space, gymnasium.spaces.Box):
        if not space.is_bounded("both"):
            raise ValueError(f"Box action spaces must have finite bounds. Received: {space}")
        return space
    raise TypeError(f"Action spaces must be gymnasium Discrete or Box spaces. Received: {space}")
