"""The public CityFlow datasets: Hangzhou 4 x 4, Jinan 3 x 4 and New York ("Manhattan") 16 x 3.

`dataset_scenario("hangzhou_4x4", flow="5734")` is the `CityFlowScenario` of one dataset with
one of its vehicle flows. These are the datasets of CoLight (Wei et al., 2019) and of most
traffic-signal papers since; the Intention Propagation paper's "Manhattan" is New York 16 x 3.
They are published in the colight repository, `data/<City>/<grid>/`:

| name           | folder       | signals | vehicles per flow variant           |
|----------------|--------------|---------|-------------------------------------|
| hangzhou_4x4   | Hangzhou/4_4 | 16      | real: 2983, 5734: 6538, 5816: 6984  |
| jinan_3x4      | Jinan/3_4    | 12      | real: 6295, 2000: 4365, 2500: 5494  |
| manhattan_16x3 | NewYork/16_3 | 48      | real: 2824                          |

Each folder holds roadnet_<grid>.json and one flow file per variant: anon_<grid>_<city>_real.json
for "real", anon_<grid>_<city>_real_<variant>.json for the others (`DATASETS` names them all).
"real" is the recorded flow; the numbered variants are the other published flows, denser than
"real" for Hangzhou and sparser for Jinan (the number names the file; it is not the vehicle
count). Every flow's vehicles enter between 0 and 3597 or 3599 s, so every scenario runs
0 .. 3600 s, the hour the papers simulate.

Where the files are read (the first that is set wins):
  1. the `data_dir=` argument;
  2. the KERAS_IP_CITYFLOW_DATA environment variable;
  3. the download cache, $KERAS_IP_CACHE/cityflow/datasets (default
     ~/.cache/keras_ip/cityflow/datasets).
Each has the layout of the colight repository's `data/` folder: <City>/<grid>/<file>. A file
missing from the cache is downloaded from that repository at `COLIGHT_COMMIT` and checked against
its SHA-256 (`SHA256`); a file missing from a folder chosen by 1 or 2 is an error, and nothing
is downloaded there.

Example:

    scenario = dataset_scenario("jinan_3x4", flow="2500")
    scenario.name, scenario.end  # ("jinan_3x4_2500", 3600.0)
"""

from __future__ import annotations

import dataclasses
import hashlib
import http.client
import os
import pathlib
import tempfile
import urllib.request

from keras_ip._checks import check_bool
from keras_ip.envs.traffic.cityflow.scenario import CityFlowScenario

COLIGHT_COMMIT = "04440b722e7f36d7043a3f2ad8e40c3df301fad3"
BASE_URL = f"https://raw.githubusercontent.com/wingsweihua/colight/{COLIGHT_COMMIT}/data"
DATA_ENV = "KERAS_IP_CITYFLOW_DATA"
_BY_HAND = (f"To provide the data by hand, copy the data/ folder of https://github.com/wingsweihua/colight/tree/"
            f"{COLIGHT_COMMIT} (its <City>/<grid> folders) somewhere and pass data_dir=<that folder> or set "
            f"{DATA_ENV}=<that folder>.")


@dataclasses.dataclass(frozen=True)
class CityFlowDataset:
    """A road network and its vehicle flows, as laid out in a data directory.

    Attributes:
      folder: "<City>/<grid>", inside a data directory (and under data/ in the colight repository).
      roadnet: the roadnet file's name.
      flows: {flow variant: flow file name}; "real" is the recorded flow.
      num_signals: signalised intersections, the agents.
      begin, end: simulated time window in seconds.
    """

    folder: str
    roadnet: str
    flows: dict
    num_signals: int
    begin: float = 0.0
    end: float = 3600.0


DATASETS = {
    "hangzhou_4x4": CityFlowDataset("Hangzhou/4_4", "roadnet_4_4.json", {
        "real": "anon_4_4_hangzhou_real.json",
        "5734": "anon_4_4_hangzhou_real_5734.json",
        "5816": "anon_4_4_hangzhou_real_5816.json"}, num_signals=16),
    "jinan_3x4": CityFlowDataset("Jinan/3_4", "roadnet_3_4.json", {
        "real": "anon_3_4_jinan_real.json",
        "2000": "anon_3_4_jinan_real_2000.json",
        "2500": "anon_3_4_jinan_real_2500.json"}, num_signals=12),
    "manhattan_16x3": CityFlowDataset("NewYork/16_3", "roadnet_16_3.json", {
        "real": "anon_16_3_newyork_real.json"}, num_signals=48),
}

# SHA-256 of each file at COLIGHT_COMMIT, by its path in a data directory.
SHA256 = {
    "Hangzhou/4_4/roadnet_4_4.json": "11e2fe89f632e43e81f56ea87a308d544b66f9c5af8a410e16149668d6d376c1",
    "Hangzhou/4_4/anon_4_4_hangzhou_real.json": "595a6140e6649efe5be1b274eb8b03e8c4029e517c9ac2ad53c9ea556a414213",
    "Hangzhou/4_4/anon_4_4_hangzhou_real_5734.json": "db0a055ebcefb4c31daa7ac3b37880690df50551f0d6dd04904b6448ff710995",
    "Hangzhou/4_4/anon_4_4_hangzhou_real_5816.json": "e9b9e31e9a9a5f59d1a668b242319c3ef69f1ab724e2f2b618ed4886cc1a7a9c",
    "Jinan/3_4/roadnet_3_4.json": "55abc036ac4ac48705301f4cf46ea80d8d88a82abb9ed68404bedb96eb3cf81d",
    "Jinan/3_4/anon_3_4_jinan_real.json": "233739633ef0b637125cb304dfffff9488503bac6e6861ca39243cc8ffdcebd5",
    "Jinan/3_4/anon_3_4_jinan_real_2000.json": "d0931c1b759479f9e748d69c16414020bfba03d555dcc6cdf7223a0c18cb9e69",
    "Jinan/3_4/anon_3_4_jinan_real_2500.json": "4245107cc7ce91b9699519f2c1258be4397e83291080a43cb0b93479557739cd",
    "NewYork/16_3/roadnet_16_3.json": "918fe133b050f4c6163252cc966fa0049b7e02edca4af15527adecd836e5098c",
    "NewYork/16_3/anon_16_3_newyork_real.json": "f8cbaaaef00f172f6d310807c61584f104ff13b8430b092ddc34636cfc13ccd4",
}


def dataset_scenario(name: str, flow: str = "real", data_dir=None, download: bool = True) -> CityFlowScenario:
    """The `CityFlowScenario` of a named dataset and flow variant, downloading its files if needed.

    Args:
      name: a key of `DATASETS`: "hangzhou_4x4", "jinan_3x4" or "manhattan_16x3".
      flow: one of the dataset's flow variants (`DATASETS[name].flows`): "real" for every
        dataset, "5734" or "5816" for Hangzhou, "2000" or "2500" for Jinan.
      data_dir: a folder laid out as <City>/<grid>/<file>; None: $KERAS_IP_CITYFLOW_DATA if set,
        else the download cache $KERAS_IP_CACHE/cityflow/datasets (default ~/.cache/keras_ip/...).
      download: whether files missing from the download cache are downloaded (never into
        data_dir or $KERAS_IP_CITYFLOW_DATA).

    Returns:
      CityFlowScenario(name, roadnet_file, flow_file, begin=0.0, end=3600.0); its name is `name`
      for the real flow, else "<name>_<flow>" (e.g. "hangzhou_4x4_5734").

    Raises:
      ValueError: an unknown name or flow variant.
      FileNotFoundError: a file missing from data_dir or $KERAS_IP_CITYFLOW_DATA, or from the
        cache with download=False.
      OSError: a download failed or did not match its SHA-256.
    """
    if not isinstance(name, str) or name not in DATASETS:
        raise ValueError(f"Unknown CityFlow dataset. Received: name={name!r}; known: {list(DATASETS)}")
    dataset = DATASETS[name]
    if not isinstance(flow, str) or flow not in dataset.flows:
        raise ValueError(f"Unknown flow variant of the {name} dataset. Received: flow={flow!r}; "
                         f"{name} has: {list(dataset.flows)}")
    check_bool("download", download)
    directory, source = _data_directory(data_dir)
    roadnet_file, flow_file = (_locate(f"{dataset.folder}/{file}", directory, source, download)
                               for file in (dataset.roadnet, dataset.flows[flow]))
    return CityFlowScenario(name if flow == "real" else f"{name}_{flow}", str(roadnet_file), str(flow_file),
                            dataset.begin, dataset.end)


def _data_directory(data_dir) -> tuple:
    """(folder, what chose it): "data_dir", DATA_ENV, or None for the download cache."""
    if data_dir is not None:
        return pathlib.Path(data_dir).expanduser(), "data_dir"
    if os.environ.get(DATA_ENV):
        return pathlib.Path(os.environ[DATA_ENV]).expanduser(), DATA_ENV
    cache = pathlib.Path(os.environ.get("KERAS_IP_CACHE", pathlib.Path.home() / ".cache" / "keras_ip"))
    return cache / "cityflow" / "datasets", None


def _locate(relative: str, directory: pathlib.Path, source, download: bool) -> pathlib.Path:
    """The path of `relative` in `directory`, downloaded into it first if it is the cache and lacks it."""
    path = directory / relative
    if path.is_file():
        return path
    if source is not None:
        raise FileNotFoundError(f"The CityFlow dataset file {path} is missing from the data directory given by "
                                f"{source} ({directory}); nothing is downloaded into a folder you chose. "
                                f"{_listing(path.parent, directory)} Expected the layout <City>/<grid>/<file> of "
                                f"the colight repository's data/ folder; or leave data_dir and {DATA_ENV} unset to "
                                f"download into the cache.")
    if not download:
        raise FileNotFoundError(f"The CityFlow dataset file {path} is not in the download cache and download=False. "
                                f"Pass download=True to fetch it from {BASE_URL}/{relative}. {_BY_HAND}")
    _download(relative, path)
    return path


def _listing(folder: pathlib.Path, root: pathlib.Path) -> str:
    """What the nearest existing folder between `folder` and `root` holds (its first 20 names)."""
    while not folder.is_dir() and folder != root:
        folder = folder.parent
    if not folder.is_dir():
        return f"{root} does not exist."
    names = sorted(entry.name for entry in folder.iterdir())
    more = f" and {len(names) - 20} more" if len(names) > 20 else ""
    return f"{folder} holds: {names[:20]}{more}."


def _download(relative: str, path: pathlib.Path):
    """Downloads `relative` from the colight repository to `path`, whole and checked, or not at all."""
    url = f"{BASE_URL}/{relative}"
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            digest = _copy(url, out)
        if digest != SHA256[relative]:
            raise OSError(f"The download of {url} is corrupted: its SHA-256 is {digest}, expected "
                          f"{SHA256[relative]}. Try again, or: {_BY_HAND}")
        os.chmod(partial, 0o644)  # mkstemp makes it private; the cache is shared like any other
        os.replace(partial, path)
    except BaseException:  # interrupted included: never leave a partial file
        pathlib.Path(partial).unlink(missing_ok=True)
        raise


def _copy(url: str, out) -> str:
    """Writes what `url` serves to `out`; returns its SHA-256 hex digest."""
    digest = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            for chunk in iter(lambda: response.read(1 << 20), b""):
                digest.update(chunk)
                out.write(chunk)
    except (OSError, http.client.HTTPException) as error:
        raise OSError(f"Could not download the CityFlow dataset file {url}: {error!r}. {_BY_HAND}") from error
    return digest.hexdigest()
