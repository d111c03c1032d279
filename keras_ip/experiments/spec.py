"""`ExperimentSpec`: what an experiment runs (environment, named algorithm runs, seeds, budget).

A spec is a dataclass that loads from a JSON file or a dict, validates every field with an
error naming it, and expands into `RunSpec`s: one per named run, and one per point of a
sweep grid (`{"ip": {"hops": [1, 2, 3]}}` -> runs "ip_hops1", "ip_hops2", "ip_hops3").
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import pathlib

from keras_ip._checks import check_int, is_int
from keras_ip.experiments.algorithms import get_algorithm

GRAPH_NAMES = ("grid", "full", "random", "knn", "none")  # the graph= values of `keras_ip.graphs.resolve_graph` a JSON spec can hold


@dataclasses.dataclass(frozen=True)
class RunSpec:
    """One named run of an experiment: a registered algorithm and its hyperparameters.

    Attributes:
      name: the run's directory name under the experiment's `out` (e.g. "ip_hops2").
      algorithm: a name in `keras_ip.experiments.ALGORITHMS` (e.g. "ip", "independent").
      hyperparameters: keyword arguments of the algorithm's constructor (for IPAgent runs,
        `IPConfig` fields), without seed and env_kwargs.
      env_kwargs: this run's overrides of the experiment's env_kwargs (e.g. a traffic
        controller's {"min_green": 0}); `ExperimentSpec.run_env_kwargs` merges them.
    """

    name: str
    algorithm: str
    hyperparameters: dict
    env_kwargs: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class ExperimentSpec:
    """An experiment: every run in `algorithms` (and its sweep) trained once per seed.

    Example:
      >>> spec = ExperimentSpec(env="coordination", env_kwargs={"rows": 2, "cols": 2},
      ...                       algorithms={"ip": {}, "independent": {}}, seeds=[0, 1], steps=600)
      >>> [run.name for run in spec.runs()]
      ['ip', 'independent']

    Attributes:
      env: a registered environment name (`keras_ip.envs.registered_names()`).
      algorithms: run name -> hyperparameter overrides; the overrides may name the
        algorithm as "algorithm" (default: the run name itself), e.g.
        {"ip": {}, "independent": {}, "ip_small": {"algorithm": "ip", "units": 32}},
        and may give the run its own "env_kwargs", merged over the experiment's (the
        simulator rules a traffic controller was tuned under, e.g.
        {"max_pressure": {"env_kwargs": {"min_green": 0}}}). A list of names means no overrides.
      env_kwargs: keyword arguments of the environment's factory, shared by every run.
      hyperparameters: overrides shared by the runs that learn, each given to the runs
        whose algorithm has that hyperparameter (e.g. hops to IP runs, batch_size to IP,
        DGN and MFQ runs; the classical traffic controllers take none); a run's own
        overrides win.
      sweep: run name -> {field: [values]}; the run is replaced by one run per point of
        the grid of values, named "<run>_<field><value>..." (appendix F's ablations:
        hops, k, graph, every, propagation).
      seeds: the seeds each run is trained with, non-negative integers.
      steps: environment steps per run (the budget).
      eval_interval: environment steps between evaluations (also at step 0 and at the end).
      eval_episodes: episodes per evaluation.
      eval_deterministic: evaluate greedy actions (True) or actions sampled from the policy
        (False). Sampling matters where every agent sees the same observation, as in the
        coordination game: there any greedy policy with shared weights plays all-equal actions.
      log_interval: environment steps between progress rows.
      checkpoint_interval: environment steps between checkpoints (also at the end).
      out: the experiment's output directory.
    """

    env: str
    algorithms: dict
    env_kwargs: dict = dataclasses.field(default_factory=dict)
    hyperparameters: dict = dataclasses.field(default_factory=dict)
    sweep: dict = dataclasses.field(default_factory=dict)
    seeds: list = dataclasses.field(default_factory=lambda: [0])
    steps: int = 10_000
    eval_interval: int = 1000
    eval_episodes: int = 10
    eval_deterministic: bool = True
    log_interval: int = 100
    checkpoint_interval: int = 1000
    out: str = "experiments"

    def __post_init__(self):
        if isinstance(self.algorithms, (list, tuple)):
            self.algorithms = {name: {} for name in self.algorithms}
        self.seeds = list(self.seeds) if isinstance(self.seeds, (list, tuple)) else self.seeds
        self.out = str(self.out)
        self.validate()

    def validate(self):
        """Raises ValueError naming the first invalid field and the value received."""
        from keras_ip.envs.registry import registered_names  # pylint: disable=import-outside-toplevel

        if self.env not in registered_names():
            raise ValueError(f"env must be a registered environment, one of {registered_names()}. "
                             f"Received: env={self.env!r}")
        for name in ("algorithms", "env_kwargs", "hyperparameters", "sweep"):
            _require_dict(name, getattr(self, name))
        if not self.algorithms:
            raise ValueError("algorithms must name at least one run. Received: algorithms={}")
        if not isinstance(self.seeds, list) or not self.seeds or not all(is_int(s) and s >= 0 for s in self.seeds) \
                or len(set(self.seeds)) != len(self.seeds):
            raise ValueError(f"seeds must be a non-empty list of distinct non-negative integers. "
                             f"Received: seeds={self.seeds!r}")
        for name in ("steps", "eval_interval", "eval_episodes", "log_interval", "checkpoint_interval"):
            check_int(name, getattr(self, name))
        if not isinstance(self.eval_deterministic, bool):
            raise ValueError(f"eval_deterministic must be true or false. Received: "
                             f"eval_deterministic={self.eval_deterministic!r}")
        unknown = sorted(set(self.sweep) - set(self.algorithms))
        if unknown:
            raise ValueError(f"sweep must name runs in algorithms {sorted(self.algorithms)}. Received: sweep keys "
                             f"{unknown}")
        learners = [get_algorithm(overrides.get("algorithm", name)) for name, overrides in self.algorithms.items()
                    if isinstance(overrides, dict)]
        accepted = {field for algorithm in learners if algorithm.learns for field in algorithm.hyperparameter_names()}
        unused = sorted(set(self.hyperparameters) - accepted)
        if unused:
            raise ValueError(f"hyperparameters {unused} apply to none of the runs' algorithms. Received: "
                             f"hyperparameters={self.hyperparameters}")
        for run in self.runs():
            graph = run.hyperparameters.get("graph", "grid")
            if graph not in GRAPH_NAMES:
                raise ValueError(f"Run {run.name!r}: graph must be one of {GRAPH_NAMES} in an experiment spec. "
                                 f"Received: graph={graph!r}")
            get_algorithm(run.algorithm).validate(run.hyperparameters, run=run.name)

    def runs(self) -> list[RunSpec]:
        """The runs in `algorithms` order, each sweep expanded into its grid points."""
        runs = []
        for name, overrides in self.algorithms.items():
            _require_dict(f"algorithms[{name!r}]", overrides)
            overrides = dict(overrides)
            algorithm = get_algorithm(overrides.pop("algorithm", name))
            env_kwargs = overrides.pop("env_kwargs", {})
            if not isinstance(env_kwargs, dict):
                raise ValueError(f"Run {name!r}: env_kwargs must be a dict of the environment's keyword arguments. "
                                 f"Received: env_kwargs={env_kwargs!r}")
            shared = {k: v for k, v in self.hyperparameters.items()
                      if algorithm.learns and k in algorithm.hyperparameter_names()}
            base = {**shared, **algorithm.defaults, **overrides}
            for suffix, point in _grid(name, self.sweep.get(name, {})):
                runs.append(RunSpec(name + suffix, algorithm.name, {**base, **point}, dict(env_kwargs)))
        names = [run.name for run in runs]
        if len(set(names)) != len(names):
            raise ValueError(f"Run names must be distinct; the sweep made {names}.")
        return runs

    def run_env_kwargs(self, run: RunSpec) -> dict:
        """The environment keyword arguments of `run`: the experiment's, overridden by the run's own."""
        return {**self.env_kwargs, **run.env_kwargs}

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "ExperimentSpec":
        """A spec from a dict of its fields; unknown keys raise ValueError listing the valid ones."""
        _require_dict("spec", values)
        fields = [field.name for field in dataclasses.fields(cls)]
        unknown = sorted(set(values) - set(fields))
        if unknown:
            raise ValueError(f"Unknown experiment spec field(s) {unknown}. Valid fields: {fields}")
        missing = [name for name in ("env", "algorithms") if name not in values]
        if missing:
            raise ValueError(f"The experiment spec needs the field(s) {missing}. Received: {sorted(values)}")
        return cls(**values)

    @classmethod
    def from_json(cls, path) -> "ExperimentSpec":
        """A spec from a JSON file holding a dict of its fields."""
        path = pathlib.Path(path)
        try:
            values = json.loads(path.read_text())
        except json.JSONDecodeError as error:
            raise ValueError(f"The experiment spec {str(path)!r} is not valid JSON: {error}") from error
        return cls.from_dict(values)


def _grid(run: str, sweep: dict):
    """(name suffix, {field: value}) for every point of the grid `sweep` = {field: [values]}."""
    _require_dict(f"sweep[{run!r}]", sweep)
    for field, values in sweep.items():
        if not isinstance(values, list) or not values:
            raise ValueError(f"sweep[{run!r}][{field!r}] must be a non-empty list of values. Received: {values!r}")
    fields = list(sweep)
    for values in itertools.product(*(sweep[field] for field in fields)):
        yield "".join(f"_{field}{value}" for field, value in zip(fields, values)), dict(zip(fields, values))


def _require_dict(name, value):
    if not isinstance(value, dict):
        raise ValueError(f"{name} must be a dict. Received: {name}={value!r}")
