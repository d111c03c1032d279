"""The named CityFlow datasets: read from data_dir= or $KERAS_IP_CITYFLOW_DATA, downloaded into the
cache (served from the shared copy, no network), checked, never left half-written, and loaded by CityFlow."""

import hashlib
import io
import json
import os
import pathlib
import re
import urllib.error
import urllib.request

import pytest

from keras_ip.envs.traffic.cityflow import datasets
from keras_ip.envs.traffic.cityflow.datasets import DATASETS, SHA256, dataset_scenario

REPO = pathlib.Path(__file__).resolve().parents[3]
SHARED = pathlib.Path(os.environ.get("KERAS_IP_CITYFLOW_DATA", REPO / ".." / "shared" / "data" / "cityflow"))
needs_shared = pytest.mark.skipif(not (SHARED / "Hangzhou").is_dir(), reason=(
    f"The CityFlow datasets are not at {SHARED}: set KERAS_IP_CITYFLOW_DATA to a copy of the data/ folder of "
    f"github.com/wingsweihua/colight"))
VARIANTS = [(name, flow) for name, dataset in DATASETS.items() for flow in dataset.flows]
HANGZHOU_URL = ("https://raw.githubusercontent.com/wingsweihua/colight/04440b722e7f36d7043a3f2ad8e40c3df301fad3/data/"
                "Hangzhou/4_4/")


@pytest.fixture(autouse=True)
def cache(monkeypatch, tmp_path):
    """The download cache of this test, $KERAS_IP_CACHE/cityflow/datasets; KERAS_IP_CITYFLOW_DATA unset."""
    monkeypatch.delenv("KERAS_IP_CITYFLOW_DATA", raising=False)
    monkeypatch.setenv("KERAS_IP_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache" / "cityflow" / "datasets"


def serve(monkeypatch, response):
    """Replaces urlopen by one returning response(url); returns the list of the URLs asked for."""
    asked = []

    def urlopen(url, timeout=None):
        asked.append(url)
        return response(url)

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    return asked


def refuse(url):
    pytest.fail(f"Unexpected download of {url}")


def from_shared(url):
    """What the colight repository serves at `url`, read from the shared copy."""
    return io.BytesIO((SHARED / url.removeprefix(datasets.BASE_URL + "/")).read_bytes())


def check_files(scenario, directory, name, flow):
    dataset = DATASETS[name]
    assert scenario.name == (name if flow == "real" else f"{name}_{flow}")
    assert scenario.roadnet_file == str(directory / dataset.folder / dataset.roadnet)
    assert scenario.flow_file == str(directory / dataset.folder / dataset.flows[flow])
    assert (scenario.begin, scenario.end) == (0.0, 3600.0)


@needs_shared
@pytest.mark.parametrize("name, flow", VARIANTS)
def test_every_variant_from_data_dir_and_from_the_environment(monkeypatch, name, flow):
    asked = serve(monkeypatch, refuse)
    check_files(dataset_scenario(name, flow, data_dir=SHARED), SHARED, name, flow)
    monkeypatch.setenv("KERAS_IP_CITYFLOW_DATA", str(SHARED))
    check_files(dataset_scenario(name, flow, download=False), SHARED, name, flow)
    assert not asked


@needs_shared
def test_data_dir_comes_before_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_IP_CITYFLOW_DATA", str(tmp_path / "nowhere"))
    check_files(dataset_scenario("jinan_3x4", "2000", data_dir=SHARED), SHARED, "jinan_3x4", "2000")


@needs_shared
@pytest.mark.parametrize("name", list(DATASETS))
def test_the_table_describes_the_files(name):
    """Checksums, signals and time window match the shared copy, and every file there is listed."""
    dataset = DATASETS[name]
    folder = SHARED / dataset.folder
    files = [dataset.roadnet, *dataset.flows.values()]
    assert sorted(path.name for path in folder.iterdir()) == sorted(files)
    for file in files:
        assert hashlib.sha256((folder / file).read_bytes()).hexdigest() == SHA256[f"{dataset.folder}/{file}"]
    roadnet = json.loads((folder / dataset.roadnet).read_text())
    assert sum(not intersection["virtual"] for intersection in roadnet["intersections"]) == dataset.num_signals
    for file in dataset.flows.values():
        starts = [vehicle["startTime"] for vehicle in json.loads((folder / file).read_text())]
        assert dataset.begin == min(starts) and max(starts) < dataset.end


@pytest.mark.parametrize("kwargs, message", [
    ({"name": "paris"}, r"Received: name='paris'; known: \['hangzhou_4x4', 'jinan_3x4', 'manhattan_16x3'\]"),
    ({"name": "hangzhou_4x4_5734"}, r"Received: name='hangzhou_4x4_5734'"),
    ({"name": "jinan_3x4", "flow": "5734"}, r"Received: flow='5734'; jinan_3x4 has: \['real', '2000', '2500'\]"),
    ({"name": "hangzhou_4x4", "flow": 5734}, r"Received: flow=5734; hangzhou_4x4 has: \['real', '5734', '5816'\]"),
    ({"name": "manhattan_16x3", "flow": "2000"}, r"Received: flow='2000'; manhattan_16x3 has: \['real'\]"),
    ({"name": "hangzhou_4x4", "download": "yes"}, r"Received: download='yes'"),
])
def test_unknown_names_and_variants(monkeypatch, kwargs, message):
    asked = serve(monkeypatch, refuse)
    with pytest.raises(ValueError, match=message):
        dataset_scenario(**kwargs)
    assert not asked


@pytest.mark.parametrize("by_environment", [False, True])
def test_a_chosen_folder_lacking_a_file_is_an_error_not_a_download(monkeypatch, tmp_path, by_environment):
    folder = tmp_path / "data" / "Hangzhou" / "4_4"
    folder.mkdir(parents=True)
    (folder / "roadnet_4_4.json").write_text("{}")
    if by_environment:
        monkeypatch.setenv("KERAS_IP_CITYFLOW_DATA", str(tmp_path / "data"))
    asked = serve(monkeypatch, refuse)
    source = "KERAS_IP_CITYFLOW_DATA" if by_environment else "data_dir"
    missing = re.escape(str(folder / "anon_4_4_hangzhou_real.json"))
    with pytest.raises(FileNotFoundError, match=rf"{missing} is missing .* given by {source} .* holds: "
                                                r"\['roadnet_4_4.json'\]"):
        dataset_scenario("hangzhou_4x4", data_dir=None if by_environment else tmp_path / "data")
    with pytest.raises(FileNotFoundError, match=rf"{re.escape(str(tmp_path / 'absent'))} does not exist"):
        dataset_scenario("jinan_3x4", data_dir=tmp_path / "absent")
    assert not asked


@needs_shared
def test_missing_files_are_downloaded_into_the_cache_once(monkeypatch, cache):
    asked = serve(monkeypatch, from_shared)
    scenario = dataset_scenario("hangzhou_4x4", "5816")
    assert asked == [HANGZHOU_URL + "roadnet_4_4.json", HANGZHOU_URL + "anon_4_4_hangzhou_real_5816.json"]
    check_files(scenario, cache, "hangzhou_4x4", "5816")
    folder = cache / "Hangzhou" / "4_4"
    assert sorted(path.name for path in folder.iterdir()) == ["anon_4_4_hangzhou_real_5816.json", "roadnet_4_4.json"]
    assert (folder / "roadnet_4_4.json").read_bytes() == (SHARED / "Hangzhou" / "4_4" / "roadnet_4_4.json").read_bytes()
    assert dataset_scenario("hangzhou_4x4", "5816") == scenario
    assert dataset_scenario("hangzhou_4x4", "5816", download=False) == scenario
    assert len(asked) == 2


def test_without_download_a_missing_cached_file_is_an_error(monkeypatch, cache):
    asked = serve(monkeypatch, refuse)
    missing = re.escape(str(cache / "NewYork" / "16_3" / "roadnet_16_3.json"))
    with pytest.raises(FileNotFoundError, match=rf"{missing} is not in the download cache and download=False"):
        dataset_scenario("manhattan_16x3", download=False)
    assert not asked


class Interrupted(io.BytesIO):
    """A response that breaks after its first chunk."""

    def __init__(self, error):
        super().__init__(b"{" * (1 << 20))
        self.error, self.reads = error, 0

    def read(self, size=-1):
        self.reads += 1
        if self.reads > 1:
            raise self.error
        return super().read(size)


def unreachable(url):
    raise urllib.error.URLError("no network")


@pytest.mark.parametrize("response, error, message", [
    (lambda url: io.BytesIO(b"[]"), OSError, "is corrupted: its SHA-256 is 4f53cda1"),
    (lambda url: Interrupted(ConnectionResetError("reset by peer")), OSError, "reset by peer"),
    (lambda url: Interrupted(KeyboardInterrupt()), KeyboardInterrupt, None),
    (unreachable, OSError, "no network"),
], ids=["corrupted", "reset", "interrupted", "unreachable"])
def test_a_failed_download_leaves_no_file(monkeypatch, cache, response, error, message):
    asked = serve(monkeypatch, response)
    with pytest.raises(error, match=message) as raised:
        dataset_scenario("hangzhou_4x4")
    assert asked == [HANGZHOU_URL + "roadnet_4_4.json"]
    if error is OSError:
        assert HANGZHOU_URL + "roadnet_4_4.json" in str(raised.value)
        assert "data_dir=" in str(raised.value) and "KERAS_IP_CITYFLOW_DATA" in str(raised.value)
    assert list((cache / "Hangzhou" / "4_4").iterdir()) == []


@needs_shared
def test_cityflow_runs_hangzhou(tmp_path):
    cityflow = pytest.importorskip("cityflow", reason=(
        "CityFlow is not on PyPI: pip install git+https://github.com/cityflow-project/CityFlow, or build the "
        "patched copy as docs/traffic.md says"))
    scenario = dataset_scenario("hangzhou_4x4", data_dir=SHARED)
    config = {"interval": 1.0, "seed": 0, "dir": "", "roadnetFile": os.path.abspath(scenario.roadnet_file),
              "flowFile": os.path.abspath(scenario.flow_file), "rlTrafficLight": True, "laneChange": False,
              "saveReplay": False, "roadnetLogFile": "", "replayLogFile": ""}
    (tmp_path / "config.json").write_text(json.dumps(config))
    engine = cityflow.Engine(str(tmp_path / "config.json"), thread_num=1)
    for _ in range(60):
        engine.next_step()
    assert engine.get_current_time() == 60.0
    assert engine.get_vehicle_count() > 0
