"""docs/examples/python-api.ipynb runs end to end: every cell executes in a real Jupyter kernel
(nbclient + ipykernel), and the committed copy holds the outputs of such a run."""

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOK = Path(__file__).resolve().parents[1] / "docs" / "examples" / "python-api.ipynb"


def _outputs_text(cell) -> str:
    parts = []
    for output in cell.get("outputs", []):
        parts.append(str(output.get("text", "")))
        parts.extend(str(v) for k, v in output.get("data", {}).items() if k.startswith("text/"))
    return "\n".join(parts)


def test_every_cell_of_the_notebook_executes_and_compares_two_runs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(NOTEBOOK.parent)}})
    client.execute()  # raises CellExecutionError naming the cell that failed
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert all(cell.execution_count for cell in code)
    assert not [o for cell in code for o in cell.outputs if o.output_type == "error"]
    text = "\n".join(_outputs_text(cell) for cell in code)
    assert "recent-titles" in text and "popular" in text and "gain %" in text
    assert any("image/png" in o.get("data", {}) for cell in code for o in cell.outputs)  # the plot
    assert "signature: nrefs:1|" in text  # rb.score printed its signature


def test_the_committed_notebook_is_an_executed_one():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code and all(cell.execution_count for cell in code) and all(cell.outputs for cell in code)
