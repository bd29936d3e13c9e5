"""The tutorial notebook runs from top to bottom in a fresh kernel, every claim it asserts holding."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbclient import NotebookClient

TUTORIAL = Path(__file__).parents[2] / "notebooks" / "tutorial.ipynb"


def test_the_tutorial_executes_cleanly(tmp_path: Path) -> None:
    notebook = nbformat.read(TUTORIAL, as_version=4)
    NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]
    assert not [output for output in outputs if output.output_type == "error"]
    assert not [o for o in outputs if o.output_type == "stream" and o.name == "stderr"], "the tutorial warns"
    widgets = [o for o in outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert widgets, "the widget cell shows no widget"
    assert any("adaptive.svg" in o.get("text", "") for o in outputs)


def test_the_tutorial_is_stored_without_outputs() -> None:
    notebook = nbformat.read(TUTORIAL, as_version=4)
    nbformat.validate(notebook)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code")
