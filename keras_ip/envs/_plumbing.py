"""PettingZoo bookkeeping shared by keras-ip's own environments.

Subclasses set `possible_agents`, `agents`, `observation_spaces` and `action_spaces`
(dicts keyed by agent) and call the checks below from `reset` and `step`.
"""

from __future__ import annotations

import numpy as np
from pettingzoo import ParallelEnv

from keras_ip._checks import check_int


class CheckedParallelEnv(ParallelEnv):
    """A `ParallelEnv` with space accessors, agent and joint-action checks and space seeding."""

    def observation_space(self, agent):
        return self.observation_spaces[self._check_agent(agent)]

    def action_space(self, agent):
        return self.action_spaces[self._check_agent(agent)]

    def _check_agent(self, agent) -> str:
        """Returns `agent`, or raises ValueError naming the agents this environment has."""
        if agent not in self.action_spaces:
            raise ValueError(f"Unknown agent {agent!r}; this environment has agents {self.possible_agents[0]} .. "
                             f"{self.possible_agents[-1]}.")
        return agent

    def _check_joint_action(self, actions: dict) -> None:
        """Raises unless an episode runs, every key is an agent and every live agent acts."""
        if not self.agents:
            raise RuntimeError("The episode is over (or was never started); call reset() before step().")
        for agent in actions:
            self._check_agent(agent)
        missing = [agent for agent in self.agents if agent not in actions]
        if missing:
            raise ValueError(f"Every live agent must act each step. Missing actions for: {missing}")

    def _clocked_step_result(self, observations: dict, rewards, infos: dict) -> tuple:
        """Advances `self._cycle` and packs one step for PettingZoo.

        For environments whose agents never terminate: every live agent is truncated when
        the cycle reaches `self.max_cycles`, and the episode ends.

        Args:
          observations: dict agent -> observation, computed after the step.
          rewards: float [N] in `self.agents` order. infos: dict agent -> dict.
        Returns:
          (observations, rewards, terminations, truncations, infos) dicts.
        """
        self._cycle += 1
        truncated = self._cycle >= self.max_cycles
        result = (observations, {agent: float(rewards[i]) for i, agent in enumerate(self.agents)},
                  dict.fromkeys(self.agents, False), dict.fromkeys(self.agents, truncated), infos)
        if truncated:
            self.agents = []
        return result

    def _seed_spaces(self, rng: np.random.Generator) -> None:
        """Seeds every agent's action and observation space from `rng`, so sampling repeats."""
        for agent in self.possible_agents:
            self.action_spaces[agent].seed(int(rng.integers(2**31)))
            self.observation_spaces[agent].seed(int(rng.integers(2**31)))


def check_grid_game_args(game: str, rows, cols, max_cycles, render_mode) -> tuple[int, int, int]:
    """Checks a grid game's options (`game` names it in errors); returns (rows, cols, max_cycles) as ints.

    rows, cols and max_cycles must be integers >= 1 with rows * cols >= 2; render_mode must be None.
    """
    for name, value in (("rows", rows), ("cols", cols), ("max_cycles", max_cycles)):
        check_int(name, value)
    if rows * cols < 2:
        raise ValueError(f"The game needs at least 2 agents (rows * cols >= 2). Received: rows={rows}, cols={cols}")
    if render_mode is not None:
        raise ValueError(f"{game} has no render modes; render_mode must be None. Received: render_mode={render_mode!r}")
    return int(rows), int(cols), int(max_cycles)


def single_number(agent: str, action) -> np.ndarray:
    """`action` as a 0-d array, after checking it holds one number (a scalar or a size-1 vector)."""
    value = np.asarray(action)
    if value.size != 1 or value.ndim > 1:
        raise ValueError(f"The action of {agent} must be a single number. Received: {action!r} (shape {value.shape})")
    return value.reshape(())


def binary_action(agent: str, action) -> int:
    """`action` as the int 0 or 1, after checking it is an integer 0 or 1 (bools are refused)."""
    value = single_number(agent, action)
    if not np.issubdtype(value.dtype, np.integer) or value not in (0, 1):
        raise ValueError(f"The action of {agent} must be the integer 0 or 1. Received: {action!r}")
    return int(value)
