"""Scenarios: RESCO networks with their own time windows; seeded, byte-identical synthetic grids."""

import pathlib

import pytest

from keras_ip.envs.traffic import RESCO_SCENARIOS, scenarios


@pytest.mark.parametrize("name, begin", [("grid4x4", 0), ("arterial4x4", 0), ("cologne8", 25200),
                                         ("ingolstadt21", 57600)])
def test_resco_scenarios_keep_their_begin_time(name, begin):
    scenario = scenarios.resco(name)
    assert (scenario.begin, scenario.end) == (begin, begin + 3600)
    assert pathlib.Path(scenario.net_file).is_file() and all(map(pathlib.Path.is_file, map(pathlib.Path,
                                                                                          scenario.route_files)))


def test_resco_names_cover_the_issue():
    assert RESCO_SCENARIOS == ("grid4x4", "arterial4x4", "cologne8", "ingolstadt21")


def test_unknown_resco_name_lists_known_ones():
    with pytest.raises(ValueError, match=r"Received: scenario='grid5x5'; known: \[.*'grid4x4'"):
        scenarios.resco("grid5x5")


def test_same_seed_same_files_other_seed_other_routes(tmp_path):
    first = scenarios.grid(2, seed=3, duration=300, cache_dir=tmp_path / "a")
    again = scenarios.grid(2, seed=3, duration=300, cache_dir=tmp_path / "b")
    other = scenarios.grid(2, seed=4, duration=300, cache_dir=tmp_path / "c")
    read = lambda path: pathlib.Path(path).read_bytes()  # noqa: E731
    assert read(first.route_files[0]) == read(again.route_files[0])
    assert read(first.net_file) == read(again.net_file)
    assert read(first.route_files[0]) != read(other.route_files[0])
    assert b"generated on" not in read(first.route_files[0])


def test_grid_is_cached(tmp_path):
    scenario = scenarios.grid(2, seed=0, duration=300, cache_dir=tmp_path)
    stamp = pathlib.Path(scenario.route_files[0]).stat().st_mtime_ns
    assert scenarios.grid(2, seed=0, duration=300, cache_dir=tmp_path) == scenario
    assert pathlib.Path(scenario.route_files[0]).stat().st_mtime_ns == stamp


@pytest.mark.parametrize("kwargs, message", [
    ({"n": 1}, "Received: n=1"), ({"n": 3, "flow": 0}, "Received: flow=0"), ({"n": 3, "seed": -1}, "Received: seed=-1"),
])
def test_grid_arguments_are_checked(kwargs, message):
    with pytest.raises(ValueError, match=message):
        scenarios.grid(**kwargs)
