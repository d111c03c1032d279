"""The whole user lifecycle on every environment and every learning algorithm (issue 14).

Each cell (an environment x a learning algorithm of the experiments registry) walks what a
user does: fit a few dozen steps -> `predict` on the observation dict the environment's own
`reset()` / `step()` returned -> `env.step` takes the result -> `evaluate` -> `save` -> `load`
-> the same `predict` -> `export` -> a process that imports only TensorFlow
(tests/lifecycle_serve.py) serves the same greedy actions. Where the algorithm cannot handle
the environment's action space, the cell asserts its ValueError instead.

With groups: one group learns while the other keeps a fixed policy (random, a callable, a
loaded agent), and a short IP run on mpe2 simple_tag, magent2 adversarial_pursuit and
heterogeneous_navigation checkpoints, resumes, exports and serves.

Speed: one fitted agent per cell, shared by the cell's tests; tiny networks without XLA;
one serving process for every export the session's tests need.
"""

import dataclasses
import importlib.util
import json
import os
import pathlib
import subprocess
import sys

import gymnasium
import numpy as np
import pytest

from keras_ip import IPAgent, make_env
from keras_ip.callbacks import Checkpoint
from keras_ip.envs import from_pettingzoo, registered_names
from keras_ip.envs.adapter import group_of
from keras_ip.experiments.algorithms import ALGORITHMS

SERVER = pathlib.Path(__file__).with_name("lifecycle_serve.py")
_spec = importlib.util.spec_from_file_location("lifecycle_serve", SERVER)
lifecycle_serve = importlib.util.module_from_spec(_spec)  # the TF-only client; its row stacking is reused here
_spec.loader.exec_module(lifecycle_serve)

LEARNERS = tuple(name for name, algorithm in ALGORITHMS.items() if algorithm.learns)
DISCRETE_ONLY = ("dgn", "mfq", "iql", "pic", "qmix")
SEED, FIT_STEPS, CHECKPOINT_EVERY = 0, 24, 16
TINY = dict(units=8, batch_size=16, buffer_size=200, learning_starts=8, train_freq=8, gradient_steps=1,
            jit_compile=False, hops=1, conv_layers=1, heads=1)  # each algorithm takes the ones it has
FULL, KNN = {"graph": "full"}, {"graph": "knn", "k": 2}


@dataclasses.dataclass(frozen=True)
class EnvCase:
    """An environment of the matrix at a tiny size.

    Attributes:
      id: the first part of the cell ids.
      name: a registered name, or the module of a PettingZoo `parallel_env` (e.g. "mpe2.simple_tag_v3").
      kwargs: the environment's keyword arguments.
      graph: the agents' graph hyperparameters ({} for the default, graph="grid").
      continuous: Box actions (the Q-learning baselines refuse them).
      requires: a module without which the case is skipped.
      algorithms: the learning algorithms run on it (or refused, for continuous actions).
    """

    id: str
    name: str
    kwargs: dict
    graph: dict = dataclasses.field(default_factory=dict)
    continuous: bool = False
    requires: str | None = None
    algorithms: tuple = LEARNERS

    @property
    def registered(self) -> bool:
        return "." not in self.name

    @property
    def knn(self) -> bool:
        return self.graph.get("graph") == "knn"

    def check_available(self):
        """Skips the test when the package the environment needs is not installed."""
        module = self.requires if self.registered else self.name
        if module is not None:
            pytest.importorskip(module)

    def make(self):
        """A fresh environment (the user's own, or an agent's)."""
        if self.registered:
            return make_env(self.name, **self.kwargs)
        return pytest.importorskip(self.name).parallel_env(**self.kwargs)


ENVS = {case.id: case for case in (
    EnvCase("coordination", "coordination", {"rows": 2, "cols": 2, "max_cycles": 2}),
    EnvCase("jungle", "jungle", {"map_size": 8, "n_agents": 4, "n_foods": 2, "view": 3, "max_cycles": 8}),
    EnvCase("majority_vote", "majority_vote", {"rows": 2, "cols": 3, "max_cycles": 2}),
    EnvCase("cooperative_navigation-knn", "cooperative_navigation", {"n": 4, "max_cycles": 8}, KNN),
    EnvCase("heterogeneous_navigation", "heterogeneous_navigation", {"n": 4, "max_cycles": 8}),
    EnvCase("cooperative_push", "cooperative_push", {"n": 4, "max_cycles": 8}, algorithms=DISCRETE_ONLY),
    EnvCase("cooperative_push-continuous", "cooperative_push", {"n": 4, "max_cycles": 8, "continuous": True},
            continuous=True),
    EnvCase("prey_predator", "prey_predator", {"n": 4, "max_cycles": 8}),
    EnvCase("traffic", "traffic", {"grid": 2, "max_cycles": 8}, requires="libsumo"),
    EnvCase("traffic-cityflow", "traffic", {"backend": "cityflow", "grid": 2, "max_cycles": 8}, requires="cityflow"),
    EnvCase("simple_spread-knn", "mpe2.simple_spread_v3", {"N": 4, "max_cycles": 8}, KNN),
    EnvCase("simple_tag", "mpe2.simple_tag_v3", {"num_good": 1, "num_adversaries": 2, "num_obstacles": 1,
                                                 "max_cycles": 8}, FULL),
    EnvCase("battle", "magent2.environments.battle_v4", {"map_size": 12, "max_cycles": 8}, FULL),
    EnvCase("adversarial_pursuit", "magent2.environments.adversarial_pursuit_v4", {"map_size": 14, "max_cycles": 8},
            FULL),
)}
RUNS = [pytest.param(env_id, algorithm, id=f"{env_id}-{algorithm}") for env_id, case in ENVS.items()
        for algorithm in case.algorithms if not (case.continuous and algorithm in DISCRETE_ONLY)]
REFUSALS = [pytest.param(env_id, algorithm, id=f"{env_id}-{algorithm}") for env_id, case in ENVS.items()
            for algorithm in case.algorithms if case.continuous and algorithm in DISCRETE_ONLY]
GROUP_RUNS = {  # the paper's protocol (appendix D.2): one group learns, the other keeps a fixed policy
    "simple_tag": {"train_groups": ["adversary"], "fixed_policies": {"agent": "random"}},
    "adversarial_pursuit": {"train_groups": [group_of("predator_0")], "fixed_policies": {group_of("prey_0"): "random"}},
    "heterogeneous_navigation": {},  # every group learns
}


def new_agent(case: EnvCase, algorithm_name: str, **overrides):
    """An unfitted agent of the registered algorithm on `case`, with TINY settings and `overrides`."""
    case.check_available()
    algorithm = ALGORITHMS[algorithm_name]
    names = set(algorithm.hyperparameter_names())
    settings = {name: value for name, value in dict(TINY, **case.graph).items() if name in names}
    settings = dict(settings, **algorithm.defaults, **overrides)  # as in a spec: the algorithm's defaults win
    if case.registered:
        return algorithm.make(case.name, case.kwargs, SEED, settings)
    return algorithm.agent_class()(case.make(), seed=SEED, **settings)


def load_agent(case: EnvCase, agent_class, path):
    """`agent_class.load`: by the registered name it was saved with, else on a fresh environment."""
    return agent_class.load(path) if case.registered else agent_class.load(path, env=case.make())


@dataclasses.dataclass
class Cell:
    """A fitted agent and the user's own environment, made apart from the agent's."""

    case: EnvCase
    agent: object
    env: object

    def act(self, agent, observations: dict) -> dict:
        """`agent`'s greedy actions for the env's dict; a k-NN graph comes from the user's env."""
        return agent.predict(observations, env=self.env) if self.case.knn else agent.predict(observations)

    def first_step(self) -> dict:
        """Resets the user's env (seed 0), steps it with the agent's actions; returns the next dict."""
        observations, _ = self.env.reset(seed=SEED)
        observations, *_ = self.env.step(self.act(self.agent, observations))
        return observations

    def release(self, *agents):
        """Ends the SUMO simulations of the traffic envs (libsumo runs one at a time per process)."""
        if self.case.name == "traffic":
            for env in (self.env, self.agent.env, *(agent.env for agent in agents)):
                env.close()


def _cache(build):
    """A getter that builds each key once and raises the same error again for a key that failed."""
    built = {}

    def get(*key):
        if key not in built:
            try:
                built[key] = build(*key)
            except Exception as error:  # pylint: disable=broad-except  # raised again below, for every test
                built[key] = error
        if isinstance(built[key], Exception):
            raise built[key]
        return built[key]

    return get, built


@pytest.fixture(scope="module")
def cells():
    """cells(env_id, algorithm) -> the Cell fitted FIT_STEPS steps, shared by the cell's tests."""

    def fit_cell(env_id, algorithm_name):
        case = ENVS[env_id]
        agent = new_agent(case, algorithm_name)
        try:
            agent.fit(FIT_STEPS, progress_bar=False)
        finally:
            if case.name == "traffic":
                agent.env.close()
        return Cell(case, agent, case.make())

    get, built = _cache(fit_cell)
    yield get
    for cell in built.values():
        if isinstance(cell, Cell):
            cell.release()


@dataclasses.dataclass
class ResumedRun:
    """An IP run checkpointed by a `Checkpoint` callback, loaded from it and fitted on."""

    saved_steps: int
    saved_updates: int
    cell: Cell  # the resumed agent


@pytest.fixture(scope="module")
def resumed_runs(tmp_path_factory):
    """resumed_runs(env_id) -> the ResumedRun of GROUP_RUNS[env_id]'s setting."""

    def run(env_id):
        case = ENVS[env_id]
        checkpoint = tmp_path_factory.mktemp(f"checkpoint-{env_id}")
        agent = new_agent(case, "ip", **GROUP_RUNS[env_id])
        agent.fit(FIT_STEPS, callbacks=Checkpoint(checkpoint, every=CHECKPOINT_EVERY), progress_bar=False)
        resumed = load_agent(case, IPAgent, checkpoint)
        saved_steps, saved_updates = resumed.num_timesteps, resumed.num_updates
        resumed.fit(CHECKPOINT_EVERY, progress_bar=False)
        return ResumedRun(saved_steps, saved_updates, Cell(case, resumed, case.make()))

    return _cache(run)[0]


def assert_valid_actions(env, observations: dict, actions: dict):
    """One action per agent of `observations`, each in the env's own action space and form."""
    assert isinstance(actions, dict) and sorted(actions) == sorted(observations), (actions, sorted(observations))
    for agent, action in actions.items():
        space = env.action_space(agent)
        if isinstance(space, gymnasium.spaces.Discrete):
            assert isinstance(action, (int, np.integer)), (agent, type(action))
        else:
            assert isinstance(action, np.ndarray) and action.shape == space.shape, (agent, action)
        assert space.contains(action), (agent, action, space)


def assert_same_actions(actual: dict, expected: dict, atol: float = 0.0):
    """The same agents, and equal actions (within atol for Box actions)."""
    assert sorted(actual) == sorted(expected)
    for agent, action in expected.items():
        np.testing.assert_allclose(np.asarray(actual[agent], np.float64), np.asarray(action, np.float64), rtol=0,
                                   atol=atol, err_msg=agent)


def predict_on_rows(cell: Cell, observations: dict) -> dict:
    """The array API: predict on the stacked rows [N, d] (graph= for k-NN), mapped back to names;
    a batch [2, N, d] of the same rows gives the same actions twice."""
    adapter = from_pettingzoo(cell.env)
    rows = lifecycle_serve.stack_observations(
        {"agents": adapter.agents, "obs_dim": adapter.obs_dim,
         "obs_sizes": np.asarray(adapter.group_obs_dims)[adapter.group_ids].tolist()}, observations)
    schedule = cell.agent.graph_schedule  # None on a static graph (and for isac on a k-NN case: no edges)
    graph = schedule.build(adapter.positions()) if schedule is not None else None
    actions = cell.agent.predict(rows, graph=graph)
    batch = cell.agent.predict(np.stack([rows, rows]), graph=graph)
    np.testing.assert_allclose(batch, np.stack([actions, actions]), rtol=0, atol=1e-6)
    return {agent: actions[i] for i, agent in enumerate(adapter.agents) if agent in observations}


def test_the_matrix_covers_every_registered_environment():
    assert {case.name for case in ENVS.values() if case.registered} == set(registered_names())


@pytest.mark.parametrize("env_id, algorithm", REFUSALS)
def test_discrete_only_algorithms_refuse_continuous_actions(env_id, algorithm):
    with pytest.raises(ValueError, match="needs discrete actions"):
        new_agent(ENVS[env_id], algorithm)


@pytest.mark.parametrize("env_id, algorithm", RUNS)
def test_fit_then_predict_on_the_envs_dict_steps_the_env(cells, env_id, algorithm):
    cell = cells(env_id, algorithm)
    assert cell.agent.num_timesteps == FIT_STEPS and cell.agent.num_updates > 0
    try:
        observations, _ = cell.env.reset(seed=SEED)
        for _ in range(2):  # the dicts of reset() and of step()
            actions = cell.act(cell.agent, observations)
            assert_valid_actions(cell.env, observations, actions)
            assert_same_actions(actions, predict_on_rows(cell, observations), atol=1e-6)
            observations, rewards, *_ = cell.env.step(actions)
            assert np.all(np.isfinite(list(rewards.values())))
    finally:
        cell.release()


@pytest.mark.parametrize("env_id, algorithm", RUNS)
def test_evaluate(cells, env_id, algorithm):
    cell = cells(env_id, algorithm)
    try:
        assert np.isfinite(cell.agent.evaluate(episodes=1))
    finally:
        cell.release()


@pytest.mark.parametrize("env_id, algorithm", RUNS)
def test_save_then_load_predicts_the_same(cells, env_id, algorithm, tmp_path):
    cell = cells(env_id, algorithm)
    loaded = []
    try:
        cell.agent.save(tmp_path / "agent")
        loaded.append(load_agent(cell.case, type(cell.agent), tmp_path / "agent"))
        assert loaded[0].num_timesteps == FIT_STEPS and loaded[0].num_updates == cell.agent.num_updates
        observations = cell.first_step()
        assert_same_actions(cell.act(loaded[0], observations), cell.act(cell.agent, observations), atol=1e-6)
    finally:
        cell.release(*loaded)


@pytest.mark.parametrize("env_id", sorted(GROUP_RUNS))
def test_checkpoint_then_resume_continues_the_step_count(resumed_runs, env_id):
    run = resumed_runs(env_id)
    assert run.saved_steps == CHECKPOINT_EVERY and run.saved_updates > 0
    resumed = run.cell.agent
    assert resumed.num_timesteps == 2 * CHECKPOINT_EVERY and resumed.num_updates > run.saved_updates


def test_a_left_out_group_without_fixed_policy_acts_uniformly_at_random():
    case = ENVS["simple_tag"]
    agent = new_agent(case, "ip", train_groups=["adversary"])
    observations, _ = case.make().reset(seed=SEED)
    draws = [agent.predict(observations) for _ in range(60)]
    assert {draw["agent_0"] for draw in draws} == set(range(5))  # all 5 moves: P(miss one) < 1e-5
    assert len({(draw["adversary_0"], draw["adversary_1"]) for draw in draws}) == 1  # greedy, learnt


def test_a_fixed_policy_callable_gets_the_envs_whole_dict():
    case = ENVS["adversarial_pursuit"]
    seen = []

    def prey_policy(observations):
        seen.append(sorted(observations))
        return {agent: 1 for agent in observations if group_of(agent) == "prey"}

    agent = new_agent(case, "ip", train_groups=["predator"], fixed_policies={"prey": prey_policy})
    agent.fit(FIT_STEPS, progress_bar=False)
    env = case.make()
    observations, _ = env.reset(seed=SEED)
    actions = agent.predict(observations)
    assert seen and seen[-1] == sorted(observations)
    assert {agent: actions[agent] for agent in observations if group_of(agent) == "prey"} == \
        {agent: 1 for agent in observations if group_of(agent) == "prey"}
    assert_valid_actions(env, observations, actions)
    env.step(actions)


def test_a_fixed_policy_can_be_a_loaded_agent(cells, tmp_path):
    case = ENVS["simple_tag"]
    cells("simple_tag", "ip").agent.save(tmp_path / "teacher")
    teacher = load_agent(case, IPAgent, tmp_path / "teacher")
    student = new_agent(case, "ip", train_groups=["adversary"], fixed_policies={"agent": teacher})
    student.fit(FIT_STEPS, progress_bar=False)
    observations, _ = case.make().reset(seed=SEED)
    assert student.predict(observations)["agent_0"] == teacher.predict(observations)["agent_0"]


# ----------------------------------------------------------------------------- serving
SERVED = [pytest.param(("cell", *run.values), id=run.id) for run in RUNS] + \
         [pytest.param(("resumed", env_id), id=f"resumed-{env_id}") for env_id in sorted(GROUP_RUNS)]


@dataclasses.dataclass
class Exported:
    """An export and what the TF-only client is asked: the env's dict (and k-NN edges)."""

    cell: Cell
    path: str
    observations: dict
    expected: dict  # the agent's predict on observations
    edges: tuple | None = None

    def request(self) -> dict:
        senders, receivers = self.edges or (None, None)
        return {"path": self.path, "senders": senders, "receivers": receivers,
                "observations": {agent: np.asarray(obs).tolist() for agent, obs in self.observations.items()}}


def export(cell: Cell, directory) -> Exported:
    """cell.agent.export(directory), then a step of the user's env: its dict, predict's actions, edges."""
    try:
        path = cell.agent.export(directory)
        observations = cell.first_step()
        exported = Exported(cell, str(path), observations, cell.act(cell.agent, observations))
        if cell.agent.graph_schedule is not None:
            graph = cell.agent.graph_schedule.build(from_pettingzoo(cell.env).positions())
            exported.edges = (graph.senders.tolist(), graph.receivers.tolist())
        return exported
    finally:
        cell.release()


def serve_in_tf_only_process(requests: dict, directory: pathlib.Path) -> dict:
    """Runs tests/lifecycle_serve.py once on every request; returns its results."""
    if not requests:
        return {"cases": {}, "imported": []}
    manifest, results = directory / "manifest.json", directory / "results.json"
    manifest.write_text(json.dumps(requests))
    process = subprocess.run([sys.executable, str(SERVER), str(manifest), str(results)], capture_output=True,
                             text=True, timeout=900, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    assert results.exists(), process.stderr[-3000:]
    return json.loads(results.read_text())


@pytest.fixture(scope="module")
def served(request, cells, resumed_runs, tmp_path_factory):
    """{serving key: (Exported, or the error exporting it; the client's answer)} for every serving
    test this session runs, all served by one TF-only process."""
    keys = dict.fromkeys(item.callspec.params["serving"] for item in request.session.items
                         if getattr(item, "module", None) is request.module and hasattr(item, "callspec")
                         and "serving" in item.callspec.params)
    root = tmp_path_factory.mktemp("served")
    exports = {}
    for i, key in enumerate(keys):
        try:
            cell = cells(*key[1:]) if key[0] == "cell" else resumed_runs(key[1]).cell
            exports[key] = export(cell, root / f"export_{i}")
        except Exception as error:  # pylint: disable=broad-except  # raised by the key's test
            exports[key] = error
    names = {key: f"case_{i}" for i, key in enumerate(exports)}
    answers = serve_in_tf_only_process({names[key]: exported.request() for key, exported in exports.items()
                                        if isinstance(exported, Exported)}, root)
    return {key: (exports[key], answers["cases"].get(names[key]), answers["imported"]) for key in exports}


def assert_serving_metadata(exported: Exported) -> dict:
    """assets.extra/keras_ip.json describes the env's agents and the agent's graph; returns it."""
    metadata = json.loads((pathlib.Path(exported.path) / lifecycle_serve.METADATA).read_text())
    env, agent = exported.cell.env, exported.cell.agent
    agents = list(env.possible_agents)
    assert metadata["agents"] == agents
    assert metadata["obs_sizes"] == [int(np.prod(env.observation_space(name).shape)) for name in agents]
    assert metadata["obs_dim"] == max(metadata["obs_sizes"])
    assert [metadata["group_names"][g] for g in metadata["groups"]] == [group_of(name) for name in agents]
    assert metadata["has_groups"] == (len(metadata["group_names"]) > 1)
    if agent.graph_schedule is not None:
        assert metadata["senders"] is None and metadata["receivers"] is None
    else:
        assert (metadata["senders"], metadata["receivers"]) == (agent.graph.senders.tolist(),
                                                                agent.graph.receivers.tolist())
    return metadata


@pytest.mark.parametrize("serving", SERVED)
def test_a_tf_only_process_serves_predicts_actions(served, serving):
    exported, answer, imported = served[serving]
    if isinstance(exported, Exception):
        raise exported
    assert not imported, f"the TF-only client imported {imported}"
    assert answer is not None and "error" not in answer, answer
    metadata = assert_serving_metadata(exported)
    trained = dict(zip(metadata["agents"], metadata.get("trained", [True] * len(metadata["agents"]))))
    if serving[0] == "resumed":
        train_groups = GROUP_RUNS[serving[1]].get("train_groups")
        assert trained == {name: train_groups is None or group_of(name) in train_groups for name in trained}
    compared = [name for name in exported.expected if trained[name]]
    assert compared
    atol = 1e-5 if exported.cell.case.continuous else 0.0
    assert_same_actions({name: answer["actions"][name] for name in compared},
                        {name: exported.expected[name] for name in compared}, atol=atol)
    assert sorted(answer["actions"]) == sorted(exported.observations)
