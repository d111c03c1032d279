"""The documentation site builds with `mkdocs build --strict`, and its API reference covers the public API.

--strict turns every warning into a failure: a broken link or anchor, a page missing from the
nav, a docstring mkdocstrings cannot parse, a `:::` reference to a name that does not exist.
"""

import html.parser
import importlib
import inspect
import os
import pathlib
import subprocess
import sys

import pytest

pytest.importorskip("mkdocs")
pytest.importorskip("mkdocstrings")

ROOT = pathlib.Path(__file__).resolve().parents[1]
# The namespaces the reference documents: the package itself and the modules users import from.
NAMESPACES = ["keras_ip", "keras_ip.baselines", "keras_ip.callbacks", "keras_ip.distributed", "keras_ip.envs",
              "keras_ip.envs.particles", "keras_ip.envs.traffic", "keras_ip.envs.traffic.cityflow",
              "keras_ip.experiments", "keras_ip.graphs", "keras_ip.layers", "keras_ip.sac"]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    site_dir = tmp_path_factory.mktemp("site")
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site_dir)], cwd=ROOT,
                          capture_output=True, text=True, timeout=600, env=dict(os.environ, NO_MKDOCS_2_WARNING="1"))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-5000:]
    assert "WARNING -" not in done.stderr, done.stderr[-5000:]
    return site_dir


class _Ids(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids = set()

    def handle_starttag(self, tag, attrs):
        self.ids.update(value for name, value in attrs if name == "id" and value)


def _reference_ids(site_dir: pathlib.Path) -> set:
    parser = _Ids()
    for page in (site_dir / "api").rglob("*.html"):
        parser.feed(page.read_text(encoding="utf-8"))
    return parser.ids


def _public_names(namespace: str):
    module = importlib.import_module(namespace)
    if hasattr(module, "__all__"):
        return module, list(module.__all__)
    return module, [name for name, value in vars(module).items()  # a module without __all__: what it defines
                    if not name.startswith("_") and getattr(value, "__module__", None) == namespace]


def test_every_public_name_is_in_the_api_reference(site):
    ids = _reference_ids(site)
    documented = {id(_resolve(path)) for path in ids if path.startswith("keras_ip.")}
    missing = []
    for namespace in NAMESPACES:
        module, names = _public_names(namespace)
        for name in names:
            value = getattr(module, name)
            if inspect.ismodule(value) and value.__name__ in NAMESPACES:
                continue  # a documented namespace of its own
            if f"{namespace}.{name}" not in ids and id(value) not in documented:
                missing.append(f"{namespace}.{name}")
    assert not missing, f"not in the API reference (docs/api/*.md): {missing}"


def _resolve(path: str):
    """'keras_ip.layers.MeanFieldPropagation' -> the object, or None for a heading id that is no Python path."""
    parts = path.split(".")
    for split in range(len(parts), 0, -1):
        try:
            value = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        try:
            for part in parts[split:]:
                value = getattr(value, part)
        except AttributeError:
            return None
        return value
    return None


def test_the_site_renders_the_tutorials_and_the_guides(site):
    for page in ["install", "concepts", "quickstart", "environments", "traffic", "performance",
                 "tutorials/01_quickstart", "tutorials/06_scaling", "api/layers"]:
        assert (site / page / "index.html").exists(), page
    layers = (site / "api" / "layers" / "index.html").read_text(encoding="utf-8")
    assert "M hops of the embedded mean-field fixed-point update" in layers  # rendered from the docstring
