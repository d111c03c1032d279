"""Agent groups end to end: different discrete action spaces per group (one masked head),
groups that learn and groups with fixed policies, and saving, loading and exporting them."""

import json

import numpy as np
import pytest
import tensorflow as tf
from gymnasium import spaces
from pettingzoo import ParallelEnv

from keras_ip import IPAgent
from keras_ip.baselines import DGNAgent, MFQAgent
from keras_ip.envs import from_pettingzoo
from keras_ip.export import DESCRIPTION_FILE
from keras_ip.graphs import graph_tensor, grid
from keras_ip.group_policies import GroupPolicies
from keras_ip.networks import INVALID_SCORE, ActionSpec

TINY = dict(units=8, batch_size=16, learning_starts=8, train_freq=4, gradient_steps=1, buffer_size=300,
            jit_compile=False, seed=0)
HUNTER_ACTIONS, RUNNER_ACTIONS = 5, 3


class HuntersAndRunners(ParallelEnv):
    """Two hunters (Discrete(5), 3 observations) and three runners (Discrete(3), 2 observations) on a line.

    A hunter is paid 1 for action 4, a runner -1 for any action but 0, so both groups' rewards
    say what each learned; an episode lasts 4 steps.
    """

    metadata = {"name": "hunters_and_runners"}

    def __init__(self):
        self.possible_agents = ["hunter_0", "hunter_1", "runner_0", "runner_1", "runner_2"]
        self.agents, self.t = [], 0

    def observation_space(self, agent):
        return spaces.Box(-1, 1, (3,) if agent.startswith("hunter") else (2,), np.float32)

    def action_space(self, agent):
        return spaces.Discrete(HUNTER_ACTIONS if agent.startswith("hunter") else RUNNER_ACTIONS)

    def reset(self, seed=None, options=None):
        self.agents, self.t = list(self.possible_agents), 0
        self.rng = np.random.default_rng(seed)
        return self._observations(), {agent: {} for agent in self.agents}

    def step(self, actions):
        for agent, action in actions.items():
            assert self.action_space(agent).contains(action), (agent, action)
        self.t += 1
        rewards = {a: float(actions[a] == 4) if a.startswith("hunter") else -float(actions[a] != 0) for a in actions}
        over = self.t >= 4
        observations = self._observations()
        terminations = {a: False for a in self.agents}
        truncations = {a: over for a in self.agents}
        infos = {a: {} for a in self.agents}
        if over:
            self.agents = []
        return observations, rewards, terminations, truncations, infos

    def agent_positions(self):
        return np.stack([np.arange(5.0), np.zeros(5)], axis=1)

    def _observations(self):
        return {a: self.rng.uniform(-1, 1, self.observation_space(a).shape).astype(np.float32) for a in self.agents}


def runner_rows(agent):
    return agent.adapter.group_ids == agent.adapter.group_names.index("runner")


# ----------------------------------------------------------------------------- the adapter
def test_adapter_accepts_groups_with_different_discrete_action_spaces():
    adapter = from_pettingzoo(HuntersAndRunners())
    assert adapter.group_names == ["hunter", "runner"] and adapter.group_num_actions == [5, 3]
    assert adapter.num_actions == 5
    np.testing.assert_array_equal(adapter.action_mask.sum(axis=1), [5, 5, 3, 3, 3])
    draws = np.stack([adapter.random_actions(np.random.default_rng(s)) for s in range(200)])
    assert draws[:, :2].max() == 4 and draws[:, 2:].max() == 2 and draws.min() == 0
    adapter.reset(seed=0)
    with pytest.raises(ValueError, match=r"Action 3 of runner_0 is outside its action space Discrete\(3\)"):
        adapter.step(np.array([0, 0, 3, 0, 0]))


def test_adapter_refuses_box_action_spaces_that_differ():
    class MixedBoxes(HuntersAndRunners):
        def action_space(self, agent):
            return spaces.Box(-1, 1, (2,) if agent.startswith("hunter") else (1,), np.float32)

    with pytest.raises(ValueError, match="different action spaces only when they are all Discrete"):
        from_pettingzoo(MixedBoxes())


def test_agents_of_one_group_must_share_an_action_space():
    class UnevenRunners(HuntersAndRunners):
        def action_space(self, agent):
            return spaces.Discrete(2 if agent == "runner_2" else 3)

    with pytest.raises(ValueError, match=r"group 'runner' has Discrete\(3\) \(runner_0\) and Discrete\(2\) \(runner_2\)"):
        from_pettingzoo(UnevenRunners())


def test_action_spec_mask_sets_the_actions_a_group_lacks_to_the_invalid_score():
    spec = ActionSpec(num_actions=4, group_num_actions=(4, 2))
    graph = graph_tensor(np.zeros((4, 1), np.float32), grid(2, 2), group=np.array([0, 1, 1, 0], np.int32))
    masked = spec.mask(tf.ones([4, 4]), graph).numpy()
    np.testing.assert_array_equal(masked[0], [1, 1, 1, 1])
    np.testing.assert_array_equal(masked[1], [1, 1, INVALID_SCORE, INVALID_SCORE])
    probabilities = tf.nn.softmax(spec.mask(tf.zeros([4, 4]), graph)).numpy()
    np.testing.assert_allclose(probabilities[1], [0.5, 0.5, 0, 0])
    assert ActionSpec(num_actions=3, group_num_actions=(3, 3)).group_num_actions is None  # all equal: no mask
    with pytest.raises(ValueError, match="largest equal to num_actions"):
        ActionSpec(num_actions=4, group_num_actions=(3, 2))


@pytest.mark.parametrize("cls", [IPAgent, DGNAgent, MFQAgent])
def test_every_algorithm_samples_only_actions_a_group_has(cls):
    agent = cls(HuntersAndRunners(), graph="full", **TINY).fit(24, progress_bar=False)
    observations = np.random.default_rng(0).normal(size=(400, 5, 3)).astype(np.float32)
    actions = agent.predict(observations, deterministic=False)
    assert actions[:, 2:].max() <= RUNNER_ACTIONS - 1 and actions[:, :2].max() == HUNTER_ACTIONS - 1
    replayed = agent.replay.sample(64).actions
    assert replayed[:, 2:].max() <= RUNNER_ACTIONS - 1


# ----------------------------------------------------------------------------- train_groups / fixed_policies
@pytest.mark.parametrize("kwargs, error, message", [
    (dict(train_groups=["wolf"]), ValueError, r"unknown agent groups \['wolf'\]"),
    (dict(fixed_policies={"wolf": "random"}), ValueError, "unknown agent groups"),
    (dict(train_groups=[]), ValueError, "at least one group"),
    (dict(train_groups=["hunter"], fixed_policies={"hunter": "random"}), ValueError, "both in train_groups"),
    (dict(fixed_policies={"runner": 3}), TypeError, r"fixed_policies\['runner'\] must be"),
    (dict(train_groups="hunter"), TypeError, "list of group names"),
])
def test_bad_group_arguments_are_named(kwargs, error, message):
    with pytest.raises(error, match=message):
        GroupPolicies(from_pettingzoo(HuntersAndRunners()), **kwargs)


def test_a_group_outside_train_groups_acts_at_random_and_takes_no_loss():
    agent = IPAgent(HuntersAndRunners(), graph="full", train_groups=["hunter"], **TINY)
    np.testing.assert_array_equal(agent.group_policies.trained, [True, True, False, False, False])
    assert agent.group_policies.kinds == {"runner": "random"}
    np.testing.assert_array_equal(agent.learner.trained_weights.numpy(), [1, 1, 0, 0, 0])
    ones = np.ones((300, 5, 3), np.float32)
    chosen = agent.predict(ones)[:, runner_rows(agent)]
    assert set(np.unique(chosen)) == {0, 1, 2}  # uniform, not the policy's one greedy answer


def test_fixed_agents_rewards_do_not_reach_the_learners_losses():
    agents = [IPAgent(HuntersAndRunners(), graph="full", train_groups=["hunter"], **TINY) for _ in range(2)]
    agents[0].fit(16, progress_bar=False)
    batch = agents[0].replay.sample(16, np.random.default_rng(0))
    changed = batch._replace(rewards=np.where(runner_rows(agents[0]), 100.0, batch.rewards).astype(np.float32))
    first, second = agents[0].learner, agents[1].learner
    for network, other in zip(first.networks, second.networks):
        for a, b in zip(network.variables, other.variables):
            b.assign(a)
    first.generator.reset_from_seed(7)
    second.generator.reset_from_seed(7)
    metrics, changed_metrics = first.train_step(batch), second.train_step(changed)
    for name in ("critic_loss", "value_loss", "policy_loss"):
        np.testing.assert_allclose(changed_metrics[name].numpy(), metrics[name].numpy(), rtol=1e-6)


def test_a_callable_fixed_policy_receives_the_observation_dict_and_chooses_its_groups_actions():
    seen = []

    def stay(observations):
        seen.append(observations)
        return {agent: 0 if agent.startswith("runner") else 4 for agent in observations}  # hunters' 4 ignored

    agent = IPAgent(HuntersAndRunners(), graph="full", fixed_policies={"runner": stay}, **TINY)
    assert agent.group_policies.train_groups == ["hunter"]
    agent.fit(16, progress_bar=False)
    assert len(seen) == 16 and set(seen[0]) == set(agent.adapter.agents)
    assert seen[0]["runner_0"].shape == (2,) and seen[0]["hunter_0"].shape == (3,)
    state = agent.replay.state_dict()
    assert np.all(state["actions"][:, runner_rows(agent)] == 0)
    assert np.unique(state["actions"][:, ~runner_rows(agent)]).size > 1
    env = HuntersAndRunners()
    observations, _ = env.reset(seed=3)
    actions = agent.predict(observations)
    assert [actions[r] for r in ("runner_0", "runner_1", "runner_2")] == [0, 0, 0]


def test_a_loaded_agent_as_fixed_policy_acts_as_it_would_alone(tmp_path):
    teacher = IPAgent(HuntersAndRunners(), graph="full", **TINY).fit(16, progress_bar=False)
    teacher = IPAgent.load(teacher.save(tmp_path / "teacher"), env=HuntersAndRunners())
    student = IPAgent(HuntersAndRunners(), graph="full", train_groups=["hunter"], fixed_policies={"runner": teacher},
                      **dict(TINY, seed=1))
    observations, _ = HuntersAndRunners().reset(seed=5)
    expected, actions = teacher.predict(observations), student.predict(observations)
    assert {a: actions[a] for a in expected if a.startswith("runner")} == \
        {a: expected[a] for a in expected if a.startswith("runner")}
    student.fit(12, progress_bar=False)


def test_save_and_load_keep_which_groups_learn(tmp_path):
    agent = IPAgent(HuntersAndRunners(), graph="full", fixed_policies={"runner": lambda obs: {a: 0 for a in obs}},
                    **TINY).fit(12, progress_bar=False)
    path = agent.save(tmp_path / "agent")
    assert json.loads((tmp_path / "agent" / "config.json").read_text())["train_groups"] == ["hunter"]
    with pytest.warns(UserWarning, match=r"groups \['runner'\] acted by a callable"):
        loaded = IPAgent.load(path, env=HuntersAndRunners())
    assert loaded.group_policies.kinds == {"runner": "random"}
    np.testing.assert_array_equal(loaded.learner.trained_weights.numpy(), [1, 1, 0, 0, 0])
    again = IPAgent.load(path, env=HuntersAndRunners(), fixed_policies={"runner": lambda obs: {a: 1 for a in obs}})
    observations, _ = HuntersAndRunners().reset(seed=0)
    assert again.predict(observations)["runner_2"] == 1


def test_evaluate_counts_the_learning_groups_rewards_only():
    agent = IPAgent(HuntersAndRunners(), graph="full", train_groups=["hunter"], **TINY)
    agent.group_policies.policies["runner"] = lambda obs: {a: 2 for a in obs}  # runners lose 1 a step
    agent.group_policies.kinds["runner"] = "callable"
    hunters_return = agent.evaluate(episodes=1)
    assert 0 <= hunters_return <= 8  # 2 hunters x 4 steps x at most 1; the runners' -12 is not counted


# ----------------------------------------------------------------------------- export
def test_export_with_groups_takes_each_agents_group_and_describes_its_inputs(tmp_path):
    agent = IPAgent(HuntersAndRunners(), graph="full", train_groups=["hunter"], **TINY).fit(16, progress_bar=False)
    path = agent.export(tmp_path / "served")
    description = json.loads((tmp_path / "served" / DESCRIPTION_FILE).read_text())
    assert description["agents"] == agent.adapter.agents and description["groups"] == [0, 0, 1, 1, 1]
    assert description["has_groups"] and description["obs_sizes"] == [3, 3, 2, 2, 2] and description["obs_dim"] == 3
    assert description["num_actions"] == [5, 5, 3, 3, 3] and description["trained"] == [True, True, False, False, False]
    serve = tf.saved_model.load(path).signatures["serving_default"]
    assert set(serve.structured_input_signature[1]) == {"observations", "senders", "receivers", "groups"}
    observations = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    served = serve(observations=tf.constant(observations), senders=tf.constant(description["senders"], tf.int32),
                   receivers=tf.constant(description["receivers"], tf.int32),
                   groups=tf.constant(description["groups"], tf.int32))
    np.testing.assert_array_equal(served["actions"].numpy()[:2], agent.predict(observations)[:2])
    np.testing.assert_array_equal(served["probabilities"].numpy()[2:, 3:], 0)  # runners have no actions 3, 4
    with pytest.raises(tf.errors.InvalidArgumentError, match="group index out of range"):
        serve(observations=tf.constant(observations), senders=tf.constant(description["senders"], tf.int32),
              receivers=tf.constant(description["receivers"], tf.int32), groups=tf.constant([0, 0, 1, 1, 2]))
