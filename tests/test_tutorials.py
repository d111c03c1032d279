"""Every tutorial notebook runs top to bottom in quick mode, in a fresh kernel, from a temp dir.

The kernel is ipykernel's own "python3" kernelspec, which runs the interpreter running the tests
(no `ipykernel install` needed). KERAS_IP_TUTORIAL_QUICK=1 shrinks each notebook's step counts.
"""

import pathlib

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

TUTORIALS = pathlib.Path(__file__).resolve().parents[1] / "tutorials"
NOTEBOOKS = sorted(TUTORIALS.glob("[0-9][0-9]_*.ipynb"))


def test_the_six_tutorials_are_there():
    assert [path.name[:2] for path in NOTEBOOKS] == ["01", "02", "03", "04", "05", "06"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_tutorial_runs_in_quick_mode(path, tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_IP_TUTORIAL_QUICK", "1")
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(notebook, kernel_name="python3", timeout=600,
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError with the failing cell and its traceback
    shown = [kind for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs
             for kind in output.get("data", {}) if kind in ("image/png", "text/markdown")]
    assert shown, f"{path.name} shows neither a plot nor a table"
