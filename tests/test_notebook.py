"""Extracting exercise files from tagged notebook cells."""

from __future__ import annotations

import json

import nbformat
import pytest

from grader import i18n
from grader.notebook import NotebookError, extract_files, write_files


@pytest.fixture(autouse=True)
def german():
    """Notebook errors are read by students in the course language (here German)."""
    i18n.set_language("de")
    yield
    i18n.set_language("de")


def make_nb(cells) -> bytes:
    nb = nbformat.v4.new_notebook()
    for kind, source, tags in cells:
        cell = nbformat.v4.new_code_cell(source) if kind == "code" else nbformat.v4.new_markdown_cell(source)
        if tags:
            cell.metadata["tags"] = tags
        nb.cells.append(cell)
    return nbformat.writes(nb).encode("utf-8")


def test_tagged_cells_are_concatenated_in_order(tmp_path):
    data = make_nb([
        ("markdown", "# Aufgabe 41", None),
        ("code", "import numpy as np\n", ["exercise-file:ex41_conv.py"]),
        ("code", "x = 1  # experiment, not graded", None),
        ("code", "%matplotlib inline\ndef h_conv2d(image, kernel):\n    return image", ["exercise-file:ex41_conv.py", "solution"]),
        ("code", "def predict(x):\n    return x", ["exercise-file:ex41_mnist.py"]),
    ])
    files = extract_files(data, label="abgabe.ipynb")
    assert sorted(files) == ["ex41_conv.py", "ex41_mnist.py"]
    conv = files["ex41_conv.py"]
    assert conv.index("import numpy") < conv.index("def h_conv2d")
    assert "x = 1" not in conv and "# --- abgabe.ipynb, cell 4 ---" in conv
    assert "# (IPython, not run when grading) %matplotlib inline" in conv
    compile(conv, "ex41_conv.py", "exec")          # valid Python
    nb_path = tmp_path / "abgabe.ipynb"
    nb_path.write_bytes(data)
    written = write_files(nb_path, tmp_path / "out")
    assert sorted(p.name for p in written) == ["ex41_conv.py", "ex41_mnist.py"]
    assert (tmp_path / "out" / "ex41_mnist.py").read_text().endswith("return x\n")


@pytest.mark.parametrize("data, message", [
    (b"\x89PNG\r\n", "abgabe.ipynb ist keine Textdatei in UTF-8"),
    (b"{\"cells\": [", r"ist kein gültiges Notebook \(kein JSON: .* in Zeile 1\)"),
    (b"[1, 2, 3]", "ist JSON, aber kein Jupyter-Notebook"),
    (json.dumps({"cells": [{"cell_type": "code"}], "nbformat": 4, "nbformat_minor": 5, "metadata": {}}).encode(),
     "ist kein gültiges Jupyter-Notebook"),
])
def test_broken_notebooks_give_clear_errors(data, message):
    with pytest.raises(NotebookError, match=message):
        extract_files(data, label="abgabe.ipynb")


def test_no_tagged_cells():
    with pytest.raises(NotebookError, match="hat keine Zellen mit dem Tag 'exercise-file:<file>'"):
        extract_files(make_nb([("code", "print(1)", ["other"])]))


@pytest.mark.parametrize("tag", ["exercise-file:../evil.py", "exercise-file:/etc/x.py", "exercise-file:notes.txt"])
def test_unsafe_or_odd_targets_are_refused(tag):
    with pytest.raises(NotebookError, match=r"Zelle 1: das Tag .* nennt keine \.py-Datei"):
        extract_files(make_nb([("code", "x = 1", [tag])]))


def test_tag_on_markdown_cell_is_refused():
    with pytest.raises(NotebookError, match="Zelle 1: mit .* markiert, aber eine markdown-Zelle statt einer Code-Zelle"):
        extract_files(make_nb([("markdown", "text", ["exercise-file:ex41_conv.py"])]))


@pytest.mark.parametrize("data, reason", [
    (b"[" * 100_000, "mehr als 64 Ebenen tief verschachtelt"),
    (b'{"cells": ' + b"[" * 5000 + b"]" * 5000 + b', "nbformat": 4}', "mehr als 64 Ebenen tief verschachtelt"),
    (b"\xff\xfe\x00garbage", "ist keine Textdatei in UTF-8"),
    (b'{"cells": 7, "nbformat": 4, "nbformat_minor": 5, "metadata": {}}', "ist kein gültiges Jupyter-Notebook"),
    (b'{"cells": [{"cell_type": "code", "metadata": {"tags": 5}, "source": 3}], "nbformat": 4,'
     b' "nbformat_minor": 5, "metadata": {}}', "ist kein gültiges Jupyter-Notebook"),
    (b'[1, 2, 3]', "ist JSON, aber kein Jupyter-Notebook"),
    (b'{"cells": [], "nbformat": 4, "n": 1' + b"0" * 5000 + b"}", r"ist kein gültiges Notebook \(ValueError\)"),
])
def test_hostile_notebooks_are_the_students_error(data, reason):
    """Deep nesting, wrong types, bad bytes: always a NotebookError, never RecursionError & co."""
    with pytest.raises(NotebookError, match=reason):
        extract_files(data, label="abgabe.ipynb")


def test_json_depth_is_linear_and_ignores_strings():
    from grader.notebook import json_depth, load_json

    text = json.dumps({"a": "[[[[{{{{" * 100, "b": [[[1]]]})
    assert json_depth(text, limit=4) == 4                 # brackets inside strings do not count
    assert json_depth("[" * 10 + "]" * 10, limit=3) == 4   # counting stops just above the limit
    assert load_json(text, "x.json", limit=4)["b"] == [[[1]]]
    with pytest.raises(ValueError, match="nests"):
        load_json("[" * 1_000_000, "manifest.json")
    nested = 1
    for _ in range(60):
        nested = [nested]
    nb = json.loads(make_nb([("code", "x = 1", ["exercise-file:a.py"])]))
    nb["metadata"]["deep"] = nested                      # deep but allowed: still a valid notebook
    assert "x = 1" in extract_files(json.dumps(nb).encode())["a.py"]
