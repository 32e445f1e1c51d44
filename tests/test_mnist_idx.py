"""Tests of exercises/mnist_idx.py, the IDX reader shipped to students and used by the grader."""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import shutil
import struct
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "mnist-sample"


def _load_module():
    spec = importlib.util.spec_from_file_location("mnist_idx", ROOT / "exercises" / "mnist_idx.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("mnist_idx", module)
    spec.loader.exec_module(module)
    return module


idx = _load_module()


def _write_idx(path: Path, array: np.ndarray, *, magic: int | None = None, gz: bool = False,
               extra: bytes = b"", cut: int = 0) -> Path:
    """Write ``array`` (uint8) as an IDX file, optionally damaged in one way."""
    if magic is None:
        magic = idx.LABELS_MAGIC if array.ndim == 1 else idx.IMAGES_MAGIC
    header = struct.pack(">I", magic) + struct.pack(f">{array.ndim}I", *array.shape)
    payload = header + np.ascontiguousarray(array, dtype=np.uint8).tobytes() + extra
    if cut:
        payload = payload[:-cut]
    path.write_bytes(gzip.compress(payload) if gz else payload)
    return path


def _digits(rng: np.random.Generator, n: int, size: int = 28) -> tuple[np.ndarray, np.ndarray]:
    images = rng.integers(0, 256, size=(n, size, size), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n, dtype=np.uint8)
    return images, labels


# --- the vendored sample -------------------------------------------------


def test_sample_files_match_their_published_hashes():
    readme = (SAMPLE / "README.md").read_text()
    for path in sorted(SAMPLE.glob("*.gz")):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        assert digest in readme, f"{path.name}: sha256 {digest} not listed in the README"
    assert "CC BY-SA 3.0" in readme and "MIT" in readme
    notice = (SAMPLE / "NOTICE").read_text()
    assert "CC BY-SA 3.0" in notice and "MIT" in notice


@pytest.mark.parametrize("split, n", [("train", 8000), ("test", 2000)])
def test_load_sample(split, n):
    images, labels = idx.load_mnist(SAMPLE, split)
    assert images.shape == (n, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (n,) and labels.dtype == np.uint8
    assert set(np.unique(labels)) == set(range(10))
    # Real digits: dark background, bright strokes, in the middle of the frame.
    assert images[:, 0, :].mean() < 1 and images[:, 10:18, 10:18].mean() > 60


def test_sample_hashes_are_checked():
    """Each sample file is in the table, so a changed byte would be caught."""
    for path in SAMPLE.glob("*.gz"):
        data = gzip.decompress(path.read_bytes())
        count = struct.unpack(">I", data[4:8])[0]
        _, want = idx.KNOWN_SHA256[(path.name[:-3], count)]
        assert hashlib.sha256(data).hexdigest() == want


def test_decompressed_and_renamed_files_read_the_same(tmp_path):
    """gzip is detected from the bytes, not the name."""
    want_images, want_labels = idx.load_mnist(SAMPLE, "test")
    images_plain = tmp_path / "t10k-images-idx3-ubyte"
    images_plain.write_bytes(gzip.decompress((SAMPLE / "t10k-images-idx3-ubyte.gz").read_bytes()))
    # A plain file that still carries '.gz' in its name ...
    labels_misnamed = tmp_path / "t10k-labels-idx1-ubyte.gz"
    labels_misnamed.write_bytes(gzip.decompress((SAMPLE / "t10k-labels-idx1-ubyte.gz").read_bytes()))
    images, labels = idx.load_mnist(tmp_path, "test")
    np.testing.assert_array_equal(images, want_images)
    np.testing.assert_array_equal(labels, want_labels)
    # ... and a gzip file without it.
    gz_no_suffix = tmp_path / "renamed"
    shutil.copy(SAMPLE / "t10k-labels-idx1-ubyte.gz", gz_no_suffix)
    np.testing.assert_array_equal(idx.read_idx(gz_no_suffix), want_labels)


def test_kaggle_names(tmp_path):
    images, labels = _digits(np.random.default_rng(1), 5)
    _write_idx(tmp_path / "train-images.idx3-ubyte", images)
    _write_idx(tmp_path / "train-labels.idx1-ubyte", labels, gz=True)
    got_images, got_labels = idx.load_mnist(tmp_path, "train")
    np.testing.assert_array_equal(got_images, images)
    np.testing.assert_array_equal(got_labels, labels)


def test_returns_writeable_uint8_of_the_written_values(tmp_path):
    rng = np.random.default_rng(2)
    images, labels = _digits(rng, 7)
    _write_idx(tmp_path / "train-images-idx3-ubyte.gz", images, gz=True)
    _write_idx(tmp_path / "train-labels-idx1-ubyte", labels)
    got_images, got_labels = idx.load_mnist(tmp_path, "train")
    assert got_images.dtype == np.uint8 and got_labels.dtype == np.uint8
    assert got_images.flags.writeable and got_labels.flags.writeable
    np.testing.assert_array_equal(got_images, images)
    np.testing.assert_array_equal(got_labels, labels)


# --- bad files -----------------------------------------------------------


def test_wrong_magic(tmp_path):
    path = _write_idx(tmp_path / "x", np.zeros(4, np.uint8), magic=0x00000802)
    with pytest.raises(idx.IdxFormatError, match="magic number 0x00000802"):
        idx.read_idx(path)


def test_not_an_idx_file(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(b"<html>404 Not Found</html>")
    with pytest.raises(idx.IdxFormatError, match="not an MNIST IDX file"):
        idx.read_idx(path)


def test_swapped_files(tmp_path):
    rng = np.random.default_rng(3)
    images, labels = _digits(rng, 3)
    _write_idx(tmp_path / "train-images-idx3-ubyte", labels)
    _write_idx(tmp_path / "train-labels-idx1-ubyte", images)
    with pytest.raises(idx.IdxFormatError, match="swapped"):
        idx.load_mnist(tmp_path, "train")


@pytest.mark.parametrize("gz", [False, True])
def test_truncated_file(tmp_path, gz):
    images, _ = _digits(np.random.default_rng(4), 3)
    path = _write_idx(tmp_path / "imgs", images, gz=gz, cut=10)
    with pytest.raises(idx.IdxFormatError, match="too short"):
        idx.read_idx(path)


def test_truncated_gzip_stream(tmp_path):
    images, _ = _digits(np.random.default_rng(5), 20)
    whole = _write_idx(tmp_path / "whole", images, gz=True).read_bytes()
    cut = tmp_path / "cut"
    cut.write_bytes(whole[: len(whole) - 6])  # gzip trailer (CRC, size) cut off
    with pytest.raises(idx.IdxFormatError, match="gzip"):
        idx.read_idx(cut)


def test_trailing_bytes(tmp_path):
    path = _write_idx(tmp_path / "labels", np.arange(5, dtype=np.uint8), extra=b"\x00")
    with pytest.raises(idx.IdxFormatError, match="longer than its header"):
        idx.read_idx(path)


def test_header_too_short(tmp_path):
    path = tmp_path / "short"
    path.write_bytes(struct.pack(">II", idx.IMAGES_MAGIC, 10))
    with pytest.raises(idx.IdxFormatError, match="too short"):
        idx.read_idx(path)


def test_absurd_header_is_refused_before_allocating(tmp_path):
    path = tmp_path / "huge"
    path.write_bytes(struct.pack(">IIII", idx.IMAGES_MAGIC, 0xFFFFFFFF, 28, 28))
    with pytest.raises(idx.IdxFormatError, match="header is corrupt"):
        idx.read_idx(path)


def test_count_mismatch(tmp_path):
    images, labels = _digits(np.random.default_rng(6), 6)
    _write_idx(tmp_path / "train-images-idx3-ubyte", images)
    _write_idx(tmp_path / "train-labels-idx1-ubyte", labels[:5])
    with pytest.raises(idx.IdxFormatError, match="6 images but .* 5 labels"):
        idx.load_mnist(tmp_path, "train")


def test_wrong_image_size(tmp_path):
    images, labels = _digits(np.random.default_rng(7), 4, size=27)
    _write_idx(tmp_path / "t10k-images-idx3-ubyte", images)
    _write_idx(tmp_path / "t10k-labels-idx1-ubyte", labels)
    with pytest.raises(idx.IdxFormatError, match="27 x 27"):
        idx.load_mnist(tmp_path, "test")


def test_label_out_of_range(tmp_path):
    images, labels = _digits(np.random.default_rng(8), 4)
    labels[2] = 11
    _write_idx(tmp_path / "t10k-images-idx3-ubyte", images)
    _write_idx(tmp_path / "t10k-labels-idx1-ubyte", labels)
    with pytest.raises(idx.IdxFormatError, match="label 11"):
        idx.load_mnist(tmp_path, "test")


def test_changed_sample_byte_fails_the_hash(tmp_path):
    data = bytearray(gzip.decompress((SAMPLE / "t10k-labels-idx1-ubyte.gz").read_bytes()))
    data[100] = (data[100] + 1) % 10
    path = tmp_path / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(bytes(data)))
    with pytest.raises(idx.IdxFormatError, match="SHA-256"):
        idx.read_idx(path)
    assert idx.read_idx(path, verify=False)[100 - 8] == data[100]  # 8 header bytes


def test_official_names_and_counts_are_checked(tmp_path):
    """A file posing as the official training labels (same name, 60,000 items) fails the hash."""
    labels = np.random.default_rng(9).integers(0, 10, 60000).astype(np.uint8)
    path = _write_idx(tmp_path / "train-labels-idx1-ubyte.gz", labels, gz=True)
    with pytest.raises(idx.IdxFormatError, match="MNIST training labels"):
        idx.read_idx(path)
    np.testing.assert_array_equal(idx.read_idx(path, verify=False), labels)
    # The same data under another name is not a known file and reads unchecked.
    other = tmp_path / "my-labels-idx1-ubyte.gz"
    shutil.copy(path, other)
    np.testing.assert_array_equal(idx.read_idx(other), labels)


def test_missing_files_name_what_was_looked_for(tmp_path):
    with pytest.raises(FileNotFoundError, match="t10k-images-idx3-ubyte.gz"):
        idx.load_mnist(tmp_path, "test")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        idx.load_mnist(tmp_path / "nope", "test")


def test_bad_split():
    with pytest.raises(ValueError, match="'train' or 'test'"):
        idx.load_mnist(SAMPLE, "validation")


# --- the experiment template that trains on what the reader returns -------------


def _run_template(out: Path, *extra: str) -> str:
    """Run exercises/ex41_mnist_experiment.py briefly with the reference Conv2D and predict."""
    import os
    import subprocess

    env = dict(os.environ, PYTHONPATH=f"{ROOT / 'solutions'}{os.pathsep}{ROOT / 'exercises'}",
               OMP_NUM_THREADS="1")
    proc = subprocess.run(
        [sys.executable, "-P", str(ROOT / "exercises" / "ex41_mnist_experiment.py"), "--epochs", "2",
         "--limit", "96", "--val", "64", "--batch-size", "16", "--seed", "3", "--out", str(out), *extra],
        capture_output=True, text=True, timeout=120, env=env, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


@pytest.mark.skipif(not (ROOT / "solutions" / "ex41_conv.py").is_file(), reason="needs the reference Conv2D")
def test_experiment_template_is_reproducible(tmp_path):
    log = _run_template(tmp_path / "a.npz")
    assert "validation accuracy" in log and "test accuracy (2000 images)" in log
    _run_template(tmp_path / "b.npz")
    _run_template(tmp_path / "c.npz", "--seed", "4")
    with np.load(tmp_path / "a.npz") as a, np.load(tmp_path / "b.npz") as b, np.load(tmp_path / "c.npz") as c:
        assert a.files == b.files and "0.weight" in a.files
        assert all(a[k].dtype == np.float32 for k in a.files)
        for k in a.files:
            np.testing.assert_array_equal(a[k], b[k], err_msg=f"{k}: same seed, different weights")
        assert any(not np.array_equal(a[k], c[k]) for k in a.files), "the seed has no effect"
