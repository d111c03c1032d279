"""Finds SUMO: its home directory, binaries and tools, from the installed `eclipse-sumo` package.

`pip install keras-ip[traffic]` installs SUMO as the `eclipse-sumo` wheel (`import sumo`).
A `SUMO_HOME` environment variable that points at a SUMO installation wins; otherwise the
wheel's directory is used and written to `os.environ["SUMO_HOME"]`, so that SUMO's own
tools (randomTrips.py, XML validation) and child processes find it too.
"""

from __future__ import annotations

import os
import pathlib


def sumo_home() -> pathlib.Path:
    """The SUMO installation directory (it holds `bin/` and `tools/`); sets $SUMO_HOME.

    Raises ImportError with the install command when neither $SUMO_HOME nor the
    `eclipse-sumo` package provides SUMO.
    """
    configured = os.environ.get("SUMO_HOME")
    if configured and (pathlib.Path(configured) / "tools").is_dir():
        return pathlib.Path(configured)
    try:
        import sumo
    except ImportError as error:
        raise ImportError('The traffic environment needs SUMO: pip install "keras-ip[traffic]" '
                          "(or pip install eclipse-sumo), or set SUMO_HOME to a SUMO installation.") from error
    os.environ["SUMO_HOME"] = str(sumo.SUMO_HOME)
    return pathlib.Path(sumo.SUMO_HOME)


def sumo_binary(name: str = "sumo") -> str:
    """Path of one of SUMO's programs ("sumo", "netgenerate", "duarouter", ...)."""
    path = sumo_home() / "bin" / name
    for candidate in (path, path.with_suffix(".exe")):
        if candidate.is_file():
            return str(candidate)
    raise FileNotFoundError(f"SUMO has no program {name!r} in {path.parent}. Received: name={name!r}")


def sumo_tool(name: str) -> str:
    """Path of one of SUMO's Python tools, e.g. "randomTrips.py"."""
    path = sumo_home() / "tools" / name
    if not path.is_file():
        raise FileNotFoundError(f"SUMO has no tool {name!r} in {path.parent}. Received: name={name!r}")
    return str(path)
