"""Jungle: PettingZoo API, seeding, hand-built attack / eat / move scenarios, observations, errors."""

import warnings

import numpy as np
import pytest
from pettingzoo.test import parallel_api_test, parallel_seed_test

from keras_ip.envs.jungle import NUM_CHANNELS, Jungle

STAY, UP, DOWN, LEFT, RIGHT, ATTACK_UP, ATTACK_DOWN, ATTACK_LEFT, ATTACK_RIGHT = range(9)


def small(agents, foods, map_size=7, **kwargs):
    """A reset Jungle on a map_size x map_size map with agents and foods on the given (x, y) cells."""
    env = Jungle(map_size=map_size, n_agents=len(agents), n_foods=len(foods), **kwargs)
    env.reset(seed=0)
    env.set_state(np.array(agents).reshape(-1, 2), np.array(foods, np.int64).reshape(-1, 2))
    return env


def act(env, *actions):
    """One step with actions in agent order; returns (observations, rewards, infos) as lists."""
    observations, rewards, _, _, infos = env.step(dict(zip(env.possible_agents, actions)))
    return ([observations[a] for a in env.possible_agents], [rewards[a] for a in env.possible_agents],
            [infos[a] for a in env.possible_agents])


def window(observation, view=11):
    """The [view, view, 3] window (rows y, columns x) of one flat observation."""
    return observation[:view * view * NUM_CHANNELS].reshape(view, view, NUM_CHANNELS)


@pytest.mark.parametrize("kwargs", [{}, {"map_size": 5, "n_agents": 3, "n_foods": 2, "view": 3}])
def test_parallel_api(kwargs):
    env = Jungle(**kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        parallel_api_test(env, num_cycles=30)  # sets env.max_cycles = 30
    assert env.agents == []


def test_parallel_seed():
    parallel_seed_test(lambda: Jungle(map_size=8, n_agents=6, n_foods=4, max_cycles=10), num_cycles=10)


def test_same_seed_and_actions_give_same_episode_and_other_seed_differs():
    def episode(seed):
        env = Jungle(map_size=10, n_agents=8, n_foods=6, max_cycles=40)
        observations, _ = env.reset(seed=seed)
        trace = [np.stack(list(observations.values()))]
        for t in range(40):  # attacks and moves, so foods get eaten and respawn
            actions = {agent: (t + i) % 9 for i, agent in enumerate(env.possible_agents)}
            observations, rewards, _, _, _ = env.step(actions)
            trace += [np.stack(list(observations.values())), np.array(list(rewards.values()))]
        return np.concatenate([x.ravel() for x in trace])

    np.testing.assert_array_equal(episode(3), episode(3))
    assert not np.array_equal(episode(3), episode(4))


def test_defaults_spaces_and_reset_placement():
    env = Jungle()
    assert (env.map_size, env.n_agents, env.n_foods, env.view, env.max_cycles) == (30, 20, 12, 11, 25)
    assert env.rewards_per_event.tolist() == [1.0, 2.0, -4.0]
    assert env.possible_agents == [f"agent_{i}" for i in range(20)]
    assert env.observation_space("agent_19").shape == (11 * 11 * 3 + 2,)
    assert env.action_space("agent_0").n == 9
    observations, infos = env.reset(seed=1)
    cells = np.concatenate([env.agent_positions(), env.food_positions()])
    assert env.agent_positions().shape == (20, 2) and env.food_positions().shape == (12, 2)
    assert len({tuple(c) for c in cells}) == 32 and cells.min() >= 0 and cells.max() <= 29
    for obs in observations.values():
        assert obs.dtype == np.float32 and env.observation_space("agent_0").contains(obs)
    assert sum(window(obs)[..., 2].sum() for obs in observations.values()) > 0  # some food is in view


def test_attacking_food_pays_eat_reward_and_food_respawns_elsewhere():
    env = small(agents=[[3, 3], [0, 0]], foods=[[3, 2]])
    _, rewards, infos = act(env, ATTACK_UP, STAY)
    assert rewards == [1.0, 0.0]
    assert infos[0] == {"food_eaten": 1, "attacks": 0, "attacked": 0}
    assert infos[1] == {"food_eaten": 0, "attacks": 0, "attacked": 0}
    new_food = env.food_positions()[0].tolist()
    assert new_food != [3, 2] and new_food not in env.agent_positions().tolist()
    assert env.agent_positions().tolist() == [[3, 3], [0, 0]]  # attackers do not move


@pytest.mark.parametrize("seed", range(10))
def test_food_respawns_on_the_only_cell_free_of_agents_and_food(seed):
    ring = [[0, 0], [1, 0], [2, 0], [0, 1], [2, 1], [0, 2], [1, 2]]  # 3 x 3 map; (2, 2) is the free cell
    env = Jungle(map_size=3, n_agents=7, n_foods=1)
    env.reset(seed=seed)
    env.set_state(ring, [[1, 1]])
    _, rewards, _ = act(env, STAY, ATTACK_DOWN, STAY, STAY, STAY, STAY, STAY)
    assert rewards == [0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    assert env.food_positions().tolist() == [[2, 2]]


def test_two_agents_attacking_one_food_are_both_paid():
    env = small(agents=[[2, 3], [4, 3]], foods=[[3, 3]], eat_reward=0.5)
    _, rewards, infos = act(env, ATTACK_RIGHT, ATTACK_LEFT)
    assert rewards == [0.5, 0.5] and [info["food_eaten"] for info in infos] == [1, 1]
    assert env.food_positions().shape == (1, 2) and env.food_positions()[0].tolist() != [3, 3]


def test_attacking_an_agent_pays_attacker_and_penalises_victim():
    env = small(agents=[[3, 3], [3, 4], [4, 4]], foods=[[0, 0]])
    _, rewards, infos = act(env, ATTACK_DOWN, STAY, ATTACK_LEFT)  # 0 and 2 both attack 1
    assert rewards == [2.0, -8.0, 2.0]
    assert [info["attacks"] for info in infos] == [1, 0, 1]
    assert [info["attacked"] for info in infos] == [0, 2, 0]
    assert env.food_positions().tolist() == [[0, 0]]  # nothing eaten, nothing respawned


def test_custom_rewards_and_mutual_attack():
    env = small(agents=[[1, 1], [2, 1]], foods=[], attack_reward=3.0, attacked_reward=-1.5)
    _, rewards, _ = act(env, ATTACK_RIGHT, ATTACK_LEFT)
    assert rewards == [1.5, 1.5]


def test_attacks_on_empty_or_out_of_map_cells_do_nothing():
    env = small(agents=[[0, 0], [3, 3]], foods=[[5, 5]])
    _, rewards, infos = act(env, ATTACK_UP, ATTACK_RIGHT)
    assert rewards == [0.0, 0.0] and all(not any(info.values()) for info in infos)
    assert env.agent_positions().tolist() == [[0, 0], [3, 3]]


def test_moves_go_one_cell_in_each_direction():
    env = small(agents=[[3, 3], [0, 6], [6, 0]], foods=[])
    for action, expected in [(UP, [3, 2]), (RIGHT, [4, 2]), (DOWN, [4, 3]), (LEFT, [3, 3]), (STAY, [3, 3])]:
        act(env, action, STAY, STAY)
        assert env.agent_positions()[0].tolist() == expected


def test_moves_into_walls_agents_food_or_contested_cells_are_blocked():
    # 0 walks into the left wall, 1 into agent 2 (which moves away, but was there at the start),
    # 3 into the food, 4 and 5 contest cell (5, 5), 6 moves freely.
    env = small(agents=[[0, 2], [2, 0], [3, 0], [4, 3], [5, 4], [5, 6], [1, 5]], foods=[[4, 2]])
    act(env, LEFT, RIGHT, DOWN, UP, DOWN, UP, RIGHT)
    assert env.agent_positions().tolist() == [[0, 2], [2, 0], [3, 1], [4, 3], [5, 4], [5, 6], [2, 5]]


def test_window_at_map_corner_is_checked_by_hand():
    env = small(agents=[[0, 0], [2, 1]], foods=[[1, 2]], view=5)
    observation = env.step({"agent_0": STAY, "agent_1": STAY})[0]["agent_0"]
    w = window(observation, view=5)
    outside = np.array([[1, 1, 1, 1, 1],
                        [1, 1, 1, 1, 1],
                        [1, 1, 0, 0, 0],
                        [1, 1, 0, 0, 0],
                        [1, 1, 0, 0, 0]])
    np.testing.assert_array_equal(w[..., 0], outside)
    agents = np.zeros((5, 5))
    agents[2 + 1, 2 + 2] = 1  # agent_1 at (x, y) = (2, 1): row 2 + 1, column 2 + 2; self not shown
    np.testing.assert_array_equal(w[..., 1], agents)
    food = np.zeros((5, 5))
    food[2 + 2, 2 + 1] = 1  # food at (x, y) = (1, 2)
    np.testing.assert_array_equal(w[..., 2], food)
    assert observation[-2:].tolist() == [0.0, 0.0]


def test_coordinates_are_normalised_and_self_is_seen_by_others():
    env = small(agents=[[6, 3], [5, 3]], foods=[])
    observations, _, _ = act(env, STAY, STAY)
    assert observations[0][-2:].tolist() == [1.0, 0.5]
    assert observations[1][-2:].tolist() == pytest.approx([5 / 6, 0.5])
    assert window(observations[1])[5, 6, 1] == 1.0 and window(observations[1])[5, 5, 1] == 0.0
    assert window(observations[0])[5, 6:, 0].tolist() == [1.0] * 5  # right of x = 6 is out of the map


def test_truncates_after_max_cycles_and_render():
    env = small(agents=[[1, 1]], foods=[[2, 2]], map_size=3, max_cycles=2, render_mode="ansi")
    assert env.render() == "...\n.A.\n..F"
    _, _, terminations, truncations, _ = env.step({"agent_0": UP})
    assert not any(terminations.values()) and not any(truncations.values())
    _, _, terminations, truncations, _ = env.step({"agent_0": STAY})
    assert truncations == {"agent_0": True} and not any(terminations.values()) and env.agents == []
    assert env.render() == ".A.\n...\n..F"
    with pytest.raises(RuntimeError, match="reset"):
        env.step({"agent_0": STAY})
    assert Jungle(map_size=3, n_agents=1, n_foods=1).render() is None


@pytest.mark.parametrize("kwargs, message", [
    ({"map_size": 1, "n_agents": 1, "n_foods": 0}, "map_size must be an integer >= 2"),
    ({"n_agents": 0}, "n_agents=0"),
    ({"n_foods": -1}, "n_foods=-1"),
    ({"view": 4}, "view=4"),
    ({"view": 2.0}, "view=2.0"),
    ({"max_cycles": 0}, "max_cycles=0"),
    ({"map_size": 4, "n_agents": 10, "n_foods": 4}, "too small"),
    ({"attack_reward": float("nan")}, "attack_reward=nan"),
    ({"eat_reward": "1"}, "eat_reward='1'"),
    ({"attacked_reward": True}, "attacked_reward=True"),
    ({"render_mode": "human"}, "render_mode='human'"),
])
def test_bad_init_args(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Jungle(**kwargs)


@pytest.mark.parametrize("bad_action, message", [
    (9, r"agent_1.*\[0, 8\].*9"),
    (-1, "agent_1.*-1"),
    (1.0, "agent_1.*1.0"),
    (True, "agent_1.*True"),
    (np.array([1]), r"agent_1.*array\(\[1\]\)"),
])
def test_bad_actions(bad_action, message):
    env = Jungle(map_size=5, n_agents=2, n_foods=1)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=message):
        env.step({"agent_0": np.int64(0), "agent_1": bad_action})


def test_unknown_missing_agents_and_bad_state():
    env = Jungle(map_size=5, n_agents=2, n_foods=1)
    with pytest.raises(RuntimeError, match="reset"):
        env.step({"agent_0": 0, "agent_1": 0})
    with pytest.raises(RuntimeError, match="reset"):
        env.set_state([[0, 0], [1, 1]], [[2, 2]])
    env.reset(seed=0)
    with pytest.raises(ValueError, match="'agent_7'"):
        env.step({"agent_0": 0, "agent_1": 0, "agent_7": 0})
    with pytest.raises(ValueError, match="Missing.*agent_1"):
        env.step({"agent_0": 0})
    with pytest.raises(ValueError, match="'nobody'"):
        env.action_space("nobody")
    with pytest.raises(ValueError, match="distinct"):
        env.set_state([[0, 0], [1, 1]], [[1, 1]])
    with pytest.raises(ValueError, match=r"agent_positions must lie in \[0, 4\]"):
        env.set_state([[0, 5], [1, 1]], [[2, 2]])
    with pytest.raises(ValueError, match=r"food_positions must be integers of shape \(1, 2\)"):
        env.set_state([[0, 0], [1, 1]], [[2.0, 2.0]])
