"""ISACAgent, independent SAC: no neighbour information anywhere, unlike the propagation="none"
ablation whose critics read the neighbours' observations and actions."""

import numpy as np
import pytest
import tensorflow as tf

from keras_ip import IPAgent
from keras_ip.baselines import ISACAgent
from keras_ip.baselines.isac import ISACConfig
from keras_ip.experiments import ExperimentSpec
from keras_ip.graphs import graph_tensor

TINY = dict(units=8, batch_size=16, learning_starts=8, train_freq=4, gradient_steps=1, buffer_size=200, seed=0,
            jit_compile=False, env_kwargs={"rows": 2, "cols": 2})


def test_init_signature_matches_config(signature_matches_config):
    assert signature_matches_config(ISACAgent, extra=("strategy",))


def outputs_of_agent_0(agent, observations, actions):
    """Agent 0's policy logits, twin Q-values and V on one joint state, on the agent's own graph."""
    graph = graph_tensor(observations, agent.graph)
    nets = agent.networks
    one_hot = tf.one_hot(actions, agent.adapter.num_actions)
    return np.concatenate([nets.actor(graph)[0].numpy().ravel(), nets.critics(graph, one_hot)[0].numpy().ravel(),
                           nets.value(graph)[0].numpy().ravel()])


@pytest.mark.parametrize("cls, kwargs, independent", [(ISACAgent, {}, True),
                                                      (IPAgent, {"propagation": "none"}, False)],
                         ids=["isac", "propagation_none"])
def test_nothing_of_agent_0_depends_on_its_neighbours(cls, kwargs, independent):
    """Agent 1 is agent 0's neighbour on the 2 x 2 grid. Changing its observation and action
    changes nothing of agent 0 under ISAC; under the ablation, its critics see them."""
    agent = cls("coordination", **TINY, **kwargs)
    rng = np.random.default_rng(0)
    observations = rng.normal(size=(4, agent.adapter.obs_dim)).astype(np.float32)
    actions = np.array([0, 1, 2, 3]) % agent.adapter.num_actions
    before = outputs_of_agent_0(agent, observations, actions)
    observations[1] += 5.0
    actions[1] = (actions[1] + 1) % agent.adapter.num_actions
    after = outputs_of_agent_0(agent, observations, actions)
    assert np.allclose(before, after) == independent


def test_its_graph_has_no_edges_and_it_learns_and_round_trips(tmp_path):
    agent = ISACAgent("coordination", **TINY).fit(40, progress_bar=False)
    assert agent.graph.num_edges == 0 and agent.num_updates > 0
    loaded = ISACAgent.load(agent.save(tmp_path / "isac"))
    assert type(loaded) is ISACAgent and loaded.config.graph == "none" and loaded.graph.num_edges == 0
    observations = np.random.default_rng(1).normal(size=(4, agent.adapter.obs_dim)).astype(np.float32)
    np.testing.assert_array_equal(loaded.predict(observations), agent.predict(observations))


@pytest.mark.parametrize("kwargs, named", [({"graph": "grid"}, "graph='grid'"), ({"graph": "knn"}, "graph='knn'"),
                                           ({"propagation": "mean_field"}, "propagation='mean_field'")])
def test_settings_that_would_share_information_are_refused(kwargs, named):
    with pytest.raises(ValueError, match=f"independently.*{named}"):
        ISACConfig(**kwargs)
    with pytest.raises(ValueError, match=f"independently.*{named}"):
        ISACAgent("coordination", **TINY, **kwargs)
    agent = ISACAgent("coordination", **TINY)
    with pytest.raises(ValueError, match=f"independently.*{named}"):
        agent.set_params(**kwargs)


def test_an_experiment_runs_it_without_the_shared_graph():
    """A spec's shared graph (k-NN for navigation) goes to the runs that use a graph; isac keeps none."""
    spec = ExperimentSpec(env="cooperative_navigation", env_kwargs={"n": 3}, algorithms=["ip", "isac"],
                          hyperparameters={"graph": "knn", "k": 2, "critic_hops": 1}, steps=10)
    runs = {run.name: run.hyperparameters for run in spec.runs()}
    assert runs["ip"]["graph"] == "knn" and runs["ip"]["critic_hops"] == 1
    assert runs["isac"]["graph"] == "none" and runs["isac"]["propagation"] == "none"
    assert runs["isac"]["critic_hops"] == 0
