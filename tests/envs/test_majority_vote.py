"""MajorityVote: PettingZoo API, seeding, hand-worked rewards and balls, exact reference values, errors."""

import itertools
import warnings

import numpy as np
import pytest
from pettingzoo.test import parallel_api_test, parallel_seed_test

from keras_ip import make_env
from keras_ip.envs.majority_vote import MajorityVote, ball_matrix, best_expected_reward, majority_rewards
from keras_ip.graphs import grid


def play(env, bits, actions):
    """Resets `env`, sets the bits (a list in agent order), plays `actions`; returns step's tuple."""
    env.reset(seed=0)
    env.bits = np.array(bits)
    return env.step(dict(zip(env.possible_agents, actions)))


@pytest.mark.parametrize("max_cycles", [1, 5])
def test_parallel_api(max_cycles):
    env = MajorityVote(rows=3, cols=3, max_cycles=max_cycles)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        parallel_api_test(env, num_cycles=max_cycles)
    assert env.agents == []


def test_parallel_seed():
    parallel_seed_test(lambda: MajorityVote(rows=2, cols=3, max_cycles=4), num_cycles=4)


def test_seed_repeats_bits_and_new_bits_each_step():
    env = MajorityVote(rows=4, cols=4, max_cycles=3)

    def bits_over_episode(seed):
        observations, _ = env.reset(seed=seed)
        seen = [[observations[a][0] for a in env.possible_agents]]
        for _ in range(2):
            observations = env.step({a: 0 for a in env.possible_agents})[0]
            seen.append([observations[a][0] for a in env.possible_agents])
        return np.array(seen)

    first = bits_over_episode(3)
    np.testing.assert_array_equal(first, bits_over_episode(3))
    assert not np.array_equal(first, bits_over_episode(4))
    assert not np.array_equal(first[0], first[1])  # redrawn every step (16 fair bits: equal with p = 2^-16)
    assert set(np.unique(first)) == {0.0, 1.0}


def test_observations_hold_bit_and_degree():
    env = MajorityVote(rows=2, cols=3)  # degrees 2 3 2 / 2 3 2
    observations, _ = env.reset(seed=5)
    features = np.stack([observations[a] for a in env.possible_agents])
    assert features.dtype == np.float32
    np.testing.assert_array_equal(features[:, 0], env.bits)
    np.testing.assert_allclose(features[:, 1], [2 / 3, 1, 2 / 3, 2 / 3, 1, 2 / 3])
    assert all(env.observation_space(a).contains(observations[a]) for a in env.possible_agents)


def test_made_by_name():
    env = make_env("majority_vote", rows=2, cols=2, radius=None)
    assert (env.grid_shape, env.radius, env.default_graph()) == ((2, 2), None, grid(2, 2))
    assert env.metadata["name"] == "majority_vote_v0" and env.action_space("agent_3").n == 2


def test_balls_on_a_line():
    ball = ball_matrix(grid(1, 5), 2)
    assert ball[0].tolist() == [True, True, True, False, False]
    assert ball[2].tolist() == [True] * 5
    assert ball_matrix(grid(1, 5), None).all()
    np.testing.assert_array_equal(ball_matrix(grid(1, 5), 1), np.eye(5, dtype=bool) | grid(1, 5).adjacency())


# 1 x 4 line, radius 1: balls {0,1}, {0,1,2}, {1,2,3}, {2,3}; ties (2-agent balls) pay either bit.
@pytest.mark.parametrize("bits, actions, expected", [
    ([1, 0, 0, 1], [1, 1, 1, 1], [1.0, 0.0, 0.0, 1.0]),  # ball 1 holds 1,0,0: majority 0
    ([1, 0, 0, 1], [0, 0, 0, 0], [1.0, 1.0, 1.0, 1.0]),
    ([1, 1, 0, 0], [1, 0, 1, 0], [1.0, 0.0, 0.0, 1.0]),  # ball 1 = 1,1,0 -> 1; ball 2 = 1,0,0 -> 0
    ([1, 1, 1, 0], [0, 1, 1, 1], [0.0, 1.0, 1.0, 1.0]),
])
def test_rewards_on_a_line(bits, actions, expected):
    env = MajorityVote(rows=1, cols=4, radius=1)
    _, rewards, _, truncations, infos = play(env, bits, actions)
    assert [rewards[a] for a in env.possible_agents] == expected
    assert infos["agent_2"] == {"team_reward": sum(expected), "optimum": 4.0}
    assert all(truncations.values())


def test_rewards_whole_grid_2x2():
    env = MajorityVote(rows=2, cols=2, radius=None)  # one ball of 4: 3 ones -> only 1 pays
    _, rewards, _, _, _ = play(env, [1, 1, 0, 1], [1, 0, 1, 0])
    assert [rewards[a] for a in env.possible_agents] == [1.0, 0.0, 1.0, 0.0]


def test_best_expected_reward_by_hand_on_a_line():
    line = grid(1, 3)
    # radius 1 on 0-1-2: balls of 2, 3, 2. Independent: the ends always pay (a tie or their own bit
    # wins), the middle agent choosing its own bit pays when at least one of 2 others agrees: 3/4.
    assert best_expected_reward(line, 1, 0) == pytest.approx(2.75)
    assert best_expected_reward(line, 1, 1) == best_expected_reward(line, 1, None) == 3.0
    # whole line (ball of 3 for everyone): own bit wins with probability 3/4
    assert best_expected_reward(line, None, 0) == pytest.approx(2.25)
    # sight 1: the middle sees all; an end sees 2 of 3: if they agree it is sure, else 1/2 -> 3/4
    assert best_expected_reward(line, None, 1) == pytest.approx(1 + 2 * 0.75)


@pytest.mark.parametrize("radius, sight", [(2, 0), (2, 1), (None, 1), (3, 2)])
def test_best_expected_reward_matches_enumeration_3x3(radius, sight):
    """Enumerates all 512 bit vectors; each agent plays the action that is best given its visible bits."""
    graph = grid(3, 3)
    ball, seen = ball_matrix(graph, radius), ball_matrix(graph, sight)
    bits = np.array(list(itertools.product([0, 1], repeat=9)))  # [512, 9]
    pays = {a: np.stack([majority_rewards(np.full(9, a), b, ball) for b in bits]) for a in (0, 1)}  # [512, 9]
    total = 0.0
    for i in range(9):
        keys = bits[:, seen[i]] @ (2 ** np.arange(seen[i].sum()))  # [512], which visible bits
        for key in np.unique(keys):
            rows = keys == key
            total += max(pays[0][rows, i].sum(), pays[1][rows, i].sum()) / 512
    assert best_expected_reward(graph, radius, sight) == pytest.approx(total)


def test_gap_grows_with_radius():
    graph = grid(4, 4)
    independent = [best_expected_reward(graph, radius, 0) for radius in (1, 2, 3, None)]
    assert all(a > b for a, b in zip(independent, independent[1:]))
    assert best_expected_reward(graph, 2, 2) == 16.0 and best_expected_reward(graph, 2, 1) < 16.0


@pytest.mark.parametrize("kwargs, message", [
    ({"rows": 0}, "rows=0"),
    ({"cols": 2.5}, "cols=2.5"),
    ({"rows": 1, "cols": 1}, "at least 2 agents"),
    ({"radius": 0}, "radius=0"),
    ({"radius": "2"}, "radius='2'"),
    ({"max_cycles": 0}, "max_cycles=0"),
    ({"render_mode": "human"}, "render_mode='human'"),
])
def test_bad_init_args(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MajorityVote(**kwargs)


def test_bad_sight():
    with pytest.raises(ValueError, match="sight=-1"):
        best_expected_reward(grid(2, 2), 1, -1)


@pytest.mark.parametrize("bad_action, message", [
    (2, "agent_1.*0 or 1.*2"),
    (0.5, "agent_1.*0.5"),
    (True, "agent_1.*True"),
    (np.array([0, 1]), r"agent_1.*single number.*\(2,\)"),
])
def test_bad_actions(bad_action, message):
    env = MajorityVote(rows=1, cols=2)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=message):
        env.step({"agent_0": 0, "agent_1": bad_action})


def test_missing_action_and_step_after_end():
    env = MajorityVote(rows=1, cols=2)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="agent_1"):
        env.step({"agent_0": 0})
    env.step({"agent_0": 0, "agent_1": 1})
    with pytest.raises(RuntimeError, match="reset"):
        env.step({"agent_0": 0, "agent_1": 1})
