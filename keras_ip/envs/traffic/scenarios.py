"""Traffic scenarios: a SUMO network, its routes and the simulated time window.

Two sources:
  - `resco(name)`: the RESCO benchmark networks shipped inside the `sumo-rl` package
    (grid4x4, arterial4x4, cologne8, ingolstadt21, ...), with the begin and end times of
    their own .sumocfg. Those matter: cologne8's routes start at 25200 s (7:00) and
    ingolstadt21's at 57600 s (16:00); a simulation started at 0 would run for hours with
    no vehicle. grid4x4 and arterial4x4 run from 0 to 3600 s.
  - `grid(n, seed)`: an n x n grid of signalised intersections built with SUMO's
    `netgenerate` and random trips from SUMO's `randomTrips.py` (routed by `duarouter`),
    from the fringe to the fringe. Same arguments, same files: the generators are seeded
    and the "generated on <date>" header comments are stripped. Files are cached under
    $KERAS_IP_CACHE (default ~/.cache/keras_ip)/traffic.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ElementTree

from keras_ip._checks import check_int
from keras_ip.envs.traffic.sumo_home import sumo_binary, sumo_home, sumo_tool

RESCO_SCENARIOS = ("grid4x4", "arterial4x4", "cologne8", "ingolstadt21")
_HEADER = re.compile(rb"<!-- generated on .*?-->\s*", re.DOTALL)


@dataclasses.dataclass(frozen=True)
class Scenario:
    """What SUMO loads: a network, route files and the simulated time window.

    Attributes:
      name: e.g. "grid4x4" or "grid7_seed0".
      net_file: path of the .net.xml.
      route_files: paths of the .rou.xml files.
      begin, end: simulated time window in seconds (SUMO clock).
    """

    name: str
    net_file: str
    route_files: tuple
    begin: float
    end: float


def resco(name: str) -> Scenario:
    """A RESCO benchmark network from the installed `sumo-rl` package, with its own time window.

    Args:
      name: a folder of sumo_rl/nets/RESCO, e.g. one of `RESCO_SCENARIOS`.
    """
    spec = importlib.util.find_spec("sumo_rl")  # locates the package without importing its broken wrapper
    if spec is None or not spec.submodule_search_locations:
        raise ImportError('The RESCO scenarios come with sumo-rl: pip install "keras-ip[traffic]" (or sumo-rl).')
    root = pathlib.Path(list(spec.submodule_search_locations)[0]) / "nets" / "RESCO"
    config = root / name / f"{name}.sumocfg"
    if not config.is_file():
        known = sorted(p.name for p in root.iterdir() if (p / f"{p.name}.sumocfg").is_file())
        raise ValueError(f"Unknown RESCO scenario. Received: scenario={name!r}; known: {known}")
    tree = ElementTree.parse(config).getroot()

    def value(tag):
        return tree.find(f".//{tag}").get("value")

    routes = tuple(str(config.parent / f.strip()) for f in value("route-files").split(","))
    return Scenario(name, str(config.parent / value("net-file")), routes, float(value("begin")), float(value("end")))


def grid(n: int, seed: int = 0, length: float = 150.0, lanes: int = 2, flow: float = 300.0,
         duration: float = 3600.0, cache_dir=None) -> Scenario:
    """An n x n grid of traffic lights with seeded random fringe-to-fringe trips.

    Args:
      n: intersections per side, >= 2 (N = n * n agents).
      seed: randomTrips.py seed; the same arguments give byte-identical files.
      length: road length between neighbouring intersections and of the fringe roads, metres.
      lanes: lanes per road direction.
      flow: vehicles per hour entering at each of the 4 n fringe roads.
      duration: seconds during which vehicles depart; the scenario runs 0 .. duration.
      cache_dir: where generated files are kept; default $KERAS_IP_CACHE/traffic or
        ~/.cache/keras_ip/traffic.
    """
    check_int("n", n, minimum=2)
    check_int("seed", seed, minimum=0)
    check_int("lanes", lanes)
    for name, value in (("length", length), ("flow", flow), ("duration", duration)):
        if not isinstance(value, (int, float)) or not value > 0:
            raise ValueError(f"{name} must be a positive number. Received: {name}={value!r}")
    name = f"grid{n}_seed{seed}_len{length:g}_lanes{lanes}_flow{flow:g}_dur{duration:g}"
    directory = _cache_root(cache_dir) / name
    if not (directory / "done").is_file():
        _generate(directory, n, seed, length, lanes, 3600.0 / (flow * 4 * n), duration)
    return Scenario(name, str(directory / "grid.net.xml"), (str(directory / "grid.rou.xml"),), 0.0, float(duration))


def _cache_root(cache_dir) -> pathlib.Path:
    if cache_dir is not None:
        return pathlib.Path(cache_dir)
    return pathlib.Path(os.environ.get("KERAS_IP_CACHE", pathlib.Path.home() / ".cache" / "keras_ip")) / "traffic"


def _generate(directory: pathlib.Path, n: int, seed: int, length: float, lanes: int, period: float, duration: float):
    """Writes grid.net.xml and grid.rou.xml into `directory`, atomically (a temporary sibling, then a rename)."""
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = pathlib.Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; the cache is shared like any other
    env = dict(os.environ, SUMO_HOME=str(sumo_home()))
    _run([sumo_binary("netgenerate"), "--grid", f"--grid.number={n}", f"--grid.length={length}",
          f"--grid.attach-length={length}", "--default-junction-type=traffic_light", f"--default.lanenumber={lanes}",
          "--tls.default-type=static", "--no-turnarounds=true", "--output-file=grid.net.xml"], staging, env)
    _run([sys.executable, sumo_tool("randomTrips.py"), "--net-file=grid.net.xml", "--output-trip-file=grid.trips.xml",
          "--route-file=grid.rou.xml", f"--seed={seed}", "--begin=0", f"--end={duration}", f"--period={period}",
          "--fringe-factor=max", "--validate"], staging, env)
    for file in ("grid.net.xml", "grid.rou.xml"):
        path = staging / file
        path.write_bytes(_HEADER.sub(b"", path.read_bytes()))
    (staging / "grid.trips.xml").unlink()
    (staging / "done").touch()
    try:
        os.replace(staging, directory)
    except OSError:  # another process generated the same scenario meanwhile
        shutil.rmtree(staging, ignore_errors=True)


def _run(command: list, cwd: pathlib.Path, env: dict):
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{pathlib.Path(command[1] if command[0] == sys.executable else command[0]).name} failed "
                           f"(exit {result.returncode}):\n{result.stderr[-2000:]}")
