"""The "jungle" grid world of DGN (Jiang et al., 2020), paper appendix D.3, in numpy.

N agents and F foods live on a map_size x map_size grid, one per cell. Each step every
agent either moves one cell or attacks one adjacent cell. Attacking a food eats it
(+`eat_reward`); attacking another agent pays more (+`attack_reward`) but costs the
victim (`attacked_reward`, negative). With the defaults +1 / +2 / -4 an attack is the
greedy choice for one agent but lowers the team's total by 2: the "moral dilemma" that
cooperative agents must learn to resist.

Why a built-in numpy world and not magent2's GridWorld. magent2 0.3.4's Config can pay
these rewards (a reward rule `Event(a, "attack", b)` with `receiver=[a, b]`,
`value=[2, -4]`), but not the rest of the scenario as stated:
  * its views are discs: `CircleRange(5)` gives an 11 x 11 array whose corner cells are
    never observed (an agent at offset (+5, +5) is invisible), not the paper's square
    11 x 11 window;
  * food must be a group of agents with hp that die when attacked; magent2 never
    respawns them, so "always F foods" needs Python-side `clear_dead` / `add_agents`
    after every step, and "no deaths" for agents needs hp large enough to outlast any
    attacks, with hp channels leaking into the observation;
  * the magent2 map draws a wall ring inside the map and leaves cells beyond it unmarked,
    and movement conflicts are resolved inside the C++ library, so neither the
    out-of-map channel nor the movement rule could be documented or tested here.
The numpy version below is small, vectorised (about 10k steps/s for the defaults) and
every rule is a documented argument.

Rules of one step, all agents simultaneously, on the positions at the start of the step:
  1. Attacks. Action 5-8 attacks the adjacent cell up / down / left / right. A food there
     is eaten: every agent attacking it gets `eat_reward`. An agent there is hit: the
     attacker gets `attack_reward`, the victim `attacked_reward` per attacker. Nobody
     dies. Attacking an empty or out-of-map cell does nothing. Attackers do not move.
  2. Moves. Action 1-4 moves one cell up / down / left / right (0 stays). A move succeeds
     iff the target cell is inside the map (walls at the border, no wrap-around), held
     neither an agent nor a food at the start of the step, and no other agent moves to
     it. Otherwise the agent stays. This rule is vectorised: no loop over agents.
  3. Respawn. Each eaten food reappears at a uniformly random cell holding no agent (after
     the moves) and no food, and not where a food was eaten this step, so there are
     always F foods.
Coordinates are (x, y): x the column, y the row, "up" is y - 1. Episodes are truncated
after `max_cycles` steps (never terminated).
"""

from __future__ import annotations

import gymnasium
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from keras_ip.envs._plumbing import CheckedParallelEnv
from keras_ip._checks import check_int, is_int

NUM_ACTIONS = 9  # 0 stay, 1-4 move up/down/left/right, 5-8 attack up/down/left/right
NUM_CHANNELS = 3  # out-of-map, other agents, food
_OFFSETS = np.array([[0, 0], [0, -1], [0, 1], [-1, 0], [1, 0]])  # (dx, dy): stay, up, down, left, right


class Jungle(CheckedParallelEnv):
    """DGN's jungle: agents eat food (+1) or attack each other (+2, victim -4).

    Example:
      >>> env = Jungle(map_size=7, n_agents=2, n_foods=1)
      >>> observations, infos = env.reset(seed=0)
      >>> observations["agent_0"].shape  # 11 * 11 * 3 window + (x, y)
      (365,)
      >>> observations = env.set_state([[1, 1], [2, 1]], [[1, 2]])
      >>> _, rewards, _, _, infos = env.step({"agent_0": 8, "agent_1": 0})  # 0 attacks 1
      >>> rewards, infos["agent_1"]["attacked"]
      ({'agent_0': 2.0, 'agent_1': -4.0}, 1)

    Init args:
      map_size: side of the square map in cells, >= 2; walls at the border.
      n_agents: N >= 1, the learning agents "agent_0" .. "agent_{N-1}".
      n_foods: F >= 0 foods, always on the map; map_size**2 >= N + 2 F is required
        so that eaten food always finds a new cell.
      view: side of the square window each agent sees, odd, >= 1, centred on the agent.
      max_cycles: steps per episode, >= 1; all agents are truncated after the last.
      eat_reward: reward per food eaten (attacked).
      attack_reward: reward to the attacker per attack on an agent.
      attacked_reward: reward to the victim per attack received (a penalty, <= 0 in DGN).
      render_mode: None or "ansi" (`render()` returns the map as text).

    Attributes:
      rewards_per_event: float64 [3], (eat_reward, attack_reward, attacked_reward).

    Observations: float32 [view * view * 3 + 2] in [0, 1]: the window [view, view, 3]
      (rows = y, columns = x, channels last: out-of-map, other agents, food) flattened
      in C order, then the agent's own (x, y) / (map_size - 1).
    Actions: Discrete(9): 0 stay; 1-4 move up/down/left/right; 5-8 attack up/down/left/
      right. Each must be an integer (python or numpy, not bool).

    Step returns:
      observations: dict agent -> float32 [view * view * 3 + 2].
      rewards: dict agent -> float, eat + attack + attacked rewards of the step.
      terminations: dict agent -> False.
      truncations: dict agent -> True at step `max_cycles`, else False.
      infos: dict agent -> {"food_eaten": 0 or 1, "attacks": 0 or 1 (attacks on agents),
        "attacked": attacks received}, counts for this step.
    """

    metadata = {"name": "jungle_v0", "render_modes": ["ansi"], "is_parallelizable": True}

    def __init__(self, map_size: int = 30, n_agents: int = 20, n_foods: int = 12, view: int = 11,
                 max_cycles: int = 25, eat_reward: float = 1.0, attack_reward: float = 2.0,
                 attacked_reward: float = -4.0, render_mode: str | None = None):
        self.map_size = check_int("map_size", map_size, minimum=2)
        self.n_agents = check_int("n_agents", n_agents)
        self.n_foods = check_int("n_foods", n_foods, minimum=0)
        self.view = check_int("view", view)
        self.max_cycles = check_int("max_cycles", max_cycles)
        if self.view % 2 == 0:
            raise ValueError(f"view must be odd (the window is centred on the agent). Received: view={view}")
        if self.map_size**2 < self.n_agents + 2 * self.n_foods:
            raise ValueError(f"The map is too small: map_size**2 must be >= n_agents + 2 * n_foods. Received: "
                             f"map_size={map_size}, n_agents={n_agents}, n_foods={n_foods}")
        for name, value in (("eat_reward", eat_reward), ("attack_reward", attack_reward),
                            ("attacked_reward", attacked_reward)):
            if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) or not np.isfinite(value):
                raise ValueError(f"{name} must be a finite number. Received: {name}={value!r}")
        if render_mode not in (None, *self.metadata["render_modes"]):
            raise ValueError(f"render_mode must be None or 'ansi'. Received: render_mode={render_mode!r}")
        self.rewards_per_event = np.array([eat_reward, attack_reward, attacked_reward], np.float64)
        self.render_mode = render_mode
        self.possible_agents = [f"agent_{i}" for i in range(self.n_agents)]
        self.agents = []
        obs_size = self.view * self.view * NUM_CHANNELS + 2
        self.observation_spaces = {agent: gymnasium.spaces.Box(0.0, 1.0, shape=(obs_size,), dtype=np.float32)
                                   for agent in self.possible_agents}
        self.action_spaces = {agent: gymnasium.spaces.Discrete(NUM_ACTIONS) for agent in self.possible_agents}
        self.np_random = np.random.default_rng()
        radius = self.view // 2
        self._padded = np.ones((self.map_size + 2 * radius,) * 2 + (NUM_CHANNELS,), np.float32)  # [M + 2r, M + 2r, 3]
        self._padded[..., 1:] = 0.0
        self._padded[radius:radius + self.map_size, radius:radius + self.map_size, 0] = 0.0
        self._agent_xy = np.zeros((self.n_agents, 2), np.int64)  # [N, 2] (x, y)
        self._food_xy = np.zeros((self.n_foods, 2), np.int64)  # [F, 2] (x, y)
        self._cycle = 0

    def agent_positions(self) -> np.ndarray:
        """float64 [N, 2] grid coordinates (x, y) of every agent, e.g. for `graphs.knn`."""
        return self._agent_xy.astype(np.float64)

    def food_positions(self) -> np.ndarray:
        """float64 [F, 2] grid coordinates (x, y) of every food."""
        return self._food_xy.astype(np.float64)

    def reset(self, seed: int | None = None, options: dict | None = None):
        """Places agents and foods on distinct random cells; returns (observations, infos).

        With a seed, `np_random` and every agent's spaces are reseeded from it.
        """
        if seed is not None:
            self.np_random = np.random.default_rng(seed)
            self._seed_spaces(self.np_random)
        cells = self.np_random.choice(self.map_size**2, self.n_agents + self.n_foods, replace=False)
        self._agent_xy = self._xy(cells[:self.n_agents])
        self._food_xy = self._xy(cells[self.n_agents:])
        self.agents = list(self.possible_agents)
        self._cycle = 0
        return self._observations(), {agent: {} for agent in self.agents}

    def set_state(self, agent_positions, food_positions) -> dict:
        """Puts agents and foods on given cells mid-episode; returns the new observations.

        Args:
          agent_positions: int [N, 2] (x, y) cells, in agent order.
          food_positions: int [F, 2] (x, y) cells. All N + F cells must be distinct.
        """
        if not self.agents:
            raise RuntimeError("set_state needs a running episode; call reset() first.")
        agent_xy = self._check_cells("agent_positions", agent_positions, self.n_agents)
        food_xy = self._check_cells("food_positions", food_positions, self.n_foods)
        cells = self._cell(np.concatenate([agent_xy, food_xy]))
        if np.unique(cells).size != cells.size:
            raise ValueError("Agents and foods must be on distinct cells. Received: agent_positions="
                             f"{agent_xy.tolist()}, food_positions={food_xy.tolist()}")
        self._agent_xy, self._food_xy = agent_xy, food_xy
        return self._observations()

    def step(self, actions: dict):
        """Attacks, then moves, then food respawn; see the module docstring."""
        a = self._action_array(actions)  # [N] in [0, 9)
        attack = a >= 5  # [N]
        target = self._agent_xy + _OFFSETS[np.where(attack, a - 4, a)]  # [N, 2] (x, y)
        inside = np.all((target >= 0) & (target < self.map_size), axis=1)  # [N]
        target_cell = np.where(inside, self._cell(target), 0)  # [N]; 0 is a placeholder, masked by `inside`
        agent_at = self._index_grid(self._agent_xy)  # [M * M], agent index or -1
        food_at = self._index_grid(self._food_xy)  # [M * M], food index or -1
        victim = np.where(attack & inside, agent_at[target_cell], -1)  # [N]
        food = np.where(attack & inside, food_at[target_cell], -1)  # [N]
        eats, attacks = (food >= 0).astype(np.int64), (victim >= 0).astype(np.int64)
        attacked = np.bincount(victim[victim >= 0], minlength=self.n_agents)  # [N]
        rewards = np.stack([eats, attacks, attacked], axis=1) @ self.rewards_per_event  # [N]

        mover = ~attack & (a > 0) & inside & (agent_at[target_cell] < 0) & (food_at[target_cell] < 0)
        claims = np.bincount(target_cell[mover], minlength=self.map_size**2)  # [M * M]
        moved = mover & (claims[target_cell] == 1)
        self._agent_xy = np.where(moved[:, None], target, self._agent_xy)
        self._respawn(np.unique(food[food >= 0]))

        infos = {agent: {"food_eaten": int(eats[i]), "attacks": int(attacks[i]), "attacked": int(attacked[i])}
                 for i, agent in enumerate(self.agents)}
        return self._clocked_step_result(self._observations(), rewards, infos)

    def render(self) -> str | None:
        """The map as text ("ansi" mode): one line per row y, "A" agent, "F" food, "." empty."""
        if self.render_mode is None:
            return None
        chars = np.full(self.map_size**2, ".")
        chars[self._cell(self._food_xy)] = "F"
        chars[self._cell(self._agent_xy)] = "A"
        return "\n".join("".join(row) for row in chars.reshape(self.map_size, self.map_size))

    def _observations(self) -> dict:
        """Every agent's window and coordinates, gathered at once from a padded grid."""
        radius = self.view // 2
        padded = self._padded.copy()  # [M + 2r, M + 2r, 3], out-of-map channel already set
        padded[self._agent_xy[:, 1] + radius, self._agent_xy[:, 0] + radius, 1] = 1.0
        padded[self._food_xy[:, 1] + radius, self._food_xy[:, 0] + radius, 2] = 1.0
        windows = sliding_window_view(padded, (self.view, self.view), axis=(0, 1))  # [M, M, 3, V, V] views
        window = windows[self._agent_xy[:, 1], self._agent_xy[:, 0]].transpose(0, 2, 3, 1)  # [N, V, V, 3]
        window[:, radius, radius, 1] = 0.0  # the centre is the agent itself, not an "other agent"
        coordinates = self._agent_xy / (self.map_size - 1)  # [N, 2] in [0, 1]
        flat = np.concatenate([window.reshape(self.n_agents, -1), coordinates], axis=1).astype(np.float32)
        return {agent: flat[i] for i, agent in enumerate(self.agents)}

    def _respawn(self, eaten: np.ndarray) -> None:
        """Moves the eaten foods (indices [K]) to random cells free of agents and foods."""
        if eaten.size == 0:
            return
        taken = np.zeros(self.map_size**2, bool)
        taken[self._cell(self._agent_xy)] = True
        taken[self._cell(self._food_xy)] = True  # includes the eaten foods' old cells
        free = np.flatnonzero(~taken)
        self._food_xy[eaten] = self._xy(self.np_random.choice(free, eaten.size, replace=False))

    def _index_grid(self, xy: np.ndarray) -> np.ndarray:
        """int [M * M]: at each cell, the index of the row of `xy` [K, 2] there, or -1."""
        grid = np.full(self.map_size**2, -1, np.int64)
        grid[self._cell(xy)] = np.arange(len(xy))
        return grid

    def _cell(self, xy: np.ndarray) -> np.ndarray:
        return xy[..., 1] * self.map_size + xy[..., 0]

    def _xy(self, cells: np.ndarray) -> np.ndarray:
        return np.stack([cells % self.map_size, cells // self.map_size], axis=-1).astype(np.int64)

    def _check_cells(self, name: str, positions, count: int) -> np.ndarray:
        xy = np.asarray(positions)
        if xy.size == 0 and count == 0:
            return np.zeros((0, 2), np.int64)
        if xy.shape != (count, 2) or not np.issubdtype(xy.dtype, np.integer):
            raise ValueError(f"{name} must be integers of shape ({count}, 2). Received: {name}={positions!r}")
        if np.any((xy < 0) | (xy >= self.map_size)):
            raise ValueError(f"{name} must lie in [0, {self.map_size - 1}]. Received: {name}={xy.tolist()}")
        return xy.astype(np.int64)

    def _action_array(self, actions: dict) -> np.ndarray:
        """int64 [N] actions in agent order, after checking every agent sent a legal one."""
        self._check_joint_action(actions)
        for agent in self.agents:
            action = actions[agent]
            if not is_int(action) or not 0 <= action < NUM_ACTIONS:
                raise ValueError(f"The action of {agent} must be an integer in [0, {NUM_ACTIONS - 1}]. "
                                 f"Received: {action!r}")
        return np.array([actions[agent] for agent in self.agents], np.int64)
