"""`ParticleParallelEnv`: any one-copy `ParticleBatch` as a PettingZoo `ParallelEnv`.

A scenario's environment class is a few lines:

    class CooperativeNavigation(ParticleParallelEnv):
        metadata = {"name": "cooperative_navigation_v0", "render_modes": [], "is_parallelizable": True}

        def __init__(self, n=15, continuous=False, max_cycles=25, render_mode=None):
            super().__init__(CooperativeNavigationBatch(1, n, continuous, max_cycles), render_mode)
"""

from __future__ import annotations

import gymnasium
import numpy as np

from keras_ip.envs._plumbing import CheckedParallelEnv
from keras_ip.envs.particles.batch import ParticleBatch


class ParticleParallelEnv(CheckedParallelEnv):
    """A PettingZoo `ParallelEnv` over the single copy of a `ParticleBatch`.

    Agents are named "agent_0" .. "agent_{N-1}" in the world's agent order. Observations
    are float32 Box(-inf, inf, (obs_dim,)) arrays; actions are Discrete(5) (no-op, left,
    right, down, up) or Box(-1, 1, (2,), float32) force directions. After `max_cycles`
    steps every agent is truncated and the episode is over.

    Init args:
      batch: a `ParticleBatch` with num_envs == 1.
      render_mode: must be None (nothing is drawn).

    Step args:
      actions: dict agent name -> action for every agent in `self.agents`: an integer in
        0..4 (Python or numpy int, or a 0-d array), or a float array of shape (2,) in [-1, 1].

    Step returns:
      observations: dict agent -> float32 [obs_dim].
      rewards: dict agent -> float.
      terminations, truncations: dict agent -> bool.
      infos: dict agent -> {"team_reward": float}, the sum of all agents' rewards.
    """

    metadata = {"name": "particles_v0", "render_modes": [], "is_parallelizable": True}

    def __init__(self, batch: ParticleBatch, render_mode: str | None = None):
        if batch.num_envs != 1:
            raise ValueError(f"ParticleParallelEnv runs a single copy. Received: batch.num_envs={batch.num_envs}")
        if render_mode is not None:
            raise ValueError(f"{type(self).__name__} has no render modes; render_mode must be None. "
                             f"Received: render_mode={render_mode!r}")
        self.batch = batch
        self.render_mode = render_mode
        self.possible_agents = [f"agent_{i}" for i in range(batch.num_agents)]
        self.agents = []
        self._live = np.zeros(batch.num_agents, bool)  # [N]
        self._noop = np.zeros(2, np.float32) if batch.continuous else 0
        self.observation_spaces = {agent: gymnasium.spaces.Box(-np.inf, np.inf, (batch.obs_dim,), np.float32)
                                   for agent in self.possible_agents}
        self.action_spaces = {agent: (gymnasium.spaces.Box(-1.0, 1.0, (2,), np.float32) if batch.continuous
                                      else gymnasium.spaces.Discrete(5)) for agent in self.possible_agents}

    @property
    def max_cycles(self) -> int:
        """Steps per episode (settable, e.g. by `pettingzoo.test.parallel_api_test`)."""
        return self.batch.max_cycles

    @max_cycles.setter
    def max_cycles(self, value: int) -> None:
        self.batch.max_cycles = value

    def reset(self, seed: int | None = None, options: dict | None = None):
        """Starts an episode; returns (observations, infos), dicts keyed by agent.

        With a seed, the world is reseeded with it (as copy 0 of a batch seeded with
        `seed`), and every agent's action and observation space is seeded from it too.
        """
        observations = self.batch.reset(seed)[0]  # [N, obs_dim]
        if seed is not None:
            self._seed_spaces(np.random.default_rng([1, seed]))  # a stream apart from the world's
        self.agents = list(self.possible_agents)
        self._live[:] = True
        return dict(zip(self.agents, observations)), {agent: {} for agent in self.agents}

    def step(self, actions: dict):
        """Steps the world once; see the class docstring."""
        self._check_joint_action(actions)
        observations, rewards, terminated, truncated = self.batch.step(self._stack(actions)[None])
        observations, rewards = observations[0], rewards[0]  # [N, obs_dim], [N]
        done = terminated[0] | truncated[0]  # [N]
        live = np.flatnonzero(self._live)
        team_reward = float(rewards.sum(dtype=np.float64))
        step = ({self.possible_agents[i]: observations[i] for i in live},
                {self.possible_agents[i]: float(rewards[i]) for i in live},
                {self.possible_agents[i]: bool(terminated[0, i]) for i in live},
                {self.possible_agents[i]: bool(truncated[0, i]) for i in live},
                {self.possible_agents[i]: {"team_reward": team_reward, **self._step_info()} for i in live})
        self._live &= ~done
        self.agents = [agent for agent, alive in zip(self.possible_agents, self._live) if alive]
        return step

    def _step_info(self) -> dict:
        """Scenario-specific scalars added to every agent's info after a step (none by default)."""
        return {}

    def agent_positions(self) -> np.ndarray:
        """The agents' positions, float64 [N, 2], in `possible_agents` order."""
        return self.batch.agent_positions()[0]

    def _stack(self, actions: dict) -> np.ndarray:
        """The actions dict as an array [N] or [N, 2]; departed agents get the no-op action."""
        rows = [actions[agent] if alive else self._noop for agent, alive in zip(self.possible_agents, self._live)]
        shape = (2,) if self.batch.continuous else ()
        try:
            stacked = np.asarray(rows)
        except ValueError as error:
            raise ValueError(f"Each agent's action must have shape {shape}. Received actions of different "
                             f"shapes: {error}") from error
        if stacked.shape[1:] != shape:
            raise ValueError(f"Each agent's action must have shape {shape}. Received: shape={stacked.shape[1:]}")
        return stacked

