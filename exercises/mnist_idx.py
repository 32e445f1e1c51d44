"""Read MNIST's IDX files (gzipped or not) into uint8 NumPy arrays.

The format (http://yann.lecun.com/exdb/mnist/): a big-endian header, then the
raw bytes.

    magic   4 bytes  0x00 0x00 <type> <ndim>   (type 0x08 = unsigned byte)
    dims    ndim x 4 bytes, big-endian item count first
    data    prod(dims) bytes, row-major

MNIST uses exactly two magics: 0x00000801 (labels, 1 dim) and 0x00000803
(images, 3 dims: count, rows, cols). This reader accepts only those two,
checks that the file holds exactly as many bytes as its header promises,
and, for the files whose SHA-256 is published (the official MNIST files and
the course's sample in ``data/mnist-sample``), that the data is the real one.
Every problem raises ``IdxFormatError`` naming the file and what is wrong, so
a truncated download or a swapped file fails loudly instead of training on
garbage.

    images, labels = load_mnist("data/mnist-sample", split="train")
    images.shape, images.dtype   # (8000, 28, 28) uint8
"""

from __future__ import annotations

import gzip
import hashlib
import struct
import zlib
from pathlib import Path
from typing import BinaryIO

import numpy as np

__all__ = [
    "IdxFormatError",
    "KNOWN_SHA256",
    "LABELS_MAGIC",
    "IMAGES_MAGIC",
    "read_idx",
    "load_mnist",
    "mnist_files",
]

LABELS_MAGIC = 0x00000801
IMAGES_MAGIC = 0x00000803
_NDIM = {LABELS_MAGIC: 1, IMAGES_MAGIC: 3}
_GZIP_MAGIC = b"\x1f\x8b"
# Refuse headers that promise more than this many bytes (the official
# training images are 47 MB): a corrupt header must not allocate gigabytes.
MAX_DATA_BYTES = 1 << 30

# SHA-256 of the *decompressed* IDX bytes (header + data), keyed by
# (file name without ".gz", item count). The decompressed hash is used
# because re-gzipping a file changes the .gz bytes but not its content.
# Official files: published by several independent projects that pin MNIST
# (their .gz files hash to 440fcabf..., 3552534a..., 8d422c7b..., f7ae60f9...);
# sample files: data/mnist-sample/README.md.
KNOWN_SHA256: dict[tuple[str, int], tuple[str, str]] = {
    ("train-images-idx3-ubyte", 60000): (
        "MNIST training images",
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    ),
    ("train-labels-idx1-ubyte", 60000): (
        "MNIST training labels",
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    ),
    ("t10k-images-idx3-ubyte", 10000): (
        "MNIST test images",
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    ),
    ("t10k-labels-idx1-ubyte", 10000): (
        "MNIST test labels",
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    ),
    ("train-images-idx3-ubyte", 8000): (
        "course MNIST sample, training images",
        "b1d1c86f7714f31030dd640b4a0966caf76385c42b1e968619f7281eeac976f4",
    ),
    ("train-labels-idx1-ubyte", 8000): (
        "course MNIST sample, training labels",
        "48e854d01a2c6b4a3374115ebcf1fa80d1c792ae56452b8fa687e8f6400bb6fe",
    ),
    ("t10k-images-idx3-ubyte", 2000): (
        "course MNIST sample, test images",
        "7d840997668c640033077158e23db82f94d21a8f9a1997d3082b019fd61f759d",
    ),
    ("t10k-labels-idx1-ubyte", 2000): (
        "course MNIST sample, test labels",
        "7d382acbf6c7088eb32d35943c66cccdf1982f91dfa9495dcc9be99072914dba",
    ),
}

_SPLIT_PREFIX = {"train": "train", "test": "t10k"}


class IdxFormatError(ValueError):
    """A file is not a well-formed MNIST IDX file (or not the one expected)."""


def _canonical_name(path: Path) -> str:
    """File name without '.gz', with Kaggle's 'train-images.idx3-ubyte' spelling unified."""
    name = path.name
    if name.endswith(".gz"):
        name = name[: -len(".gz")]
    return name.replace(".idx", "-idx")


def _open(path: Path) -> tuple[BinaryIO, bool]:
    """Open ``path`` for reading, decompressing on the fly if it is gzip.

    Whether a file is gzipped is decided by its first two bytes (1f 8b), not
    by its name: a decompressed file still called '.gz' (as some browsers
    leave them) reads just as well.
    """
    raw = open(path, "rb")
    head = raw.read(2)
    raw.seek(0)
    if head == _GZIP_MAGIC:
        return gzip.GzipFile(fileobj=raw, mode="rb"), True
    return raw, False


def _read_exactly(stream: BinaryIO, size: int, path: Path, what: str) -> bytes:
    """Read ``size`` bytes or raise IdxFormatError (truncated / broken gzip)."""
    try:
        data = stream.read(size)
    except (EOFError, OSError, zlib.error) as error:
        raise IdxFormatError(f"{path}: the gzip data is damaged or cut off ({error}).") from None
    if len(data) != size:
        raise IdxFormatError(
            f"{path}: file too short: the {what} needs {size} bytes, found only {len(data)} "
            "(truncated download?)."
        )
    return data


def read_idx(
    path: str | Path,
    *,
    expect_magic: int | None = None,
    verify: bool = True,
) -> np.ndarray:
    """Read one MNIST IDX file into a uint8 array.

    Args:
        path: the file, gzipped or not (detected from its content).
        expect_magic: ``LABELS_MAGIC`` or ``IMAGES_MAGIC`` to insist on one kind
            (None accepts either).
        verify: compare the SHA-256 of the decompressed bytes with the
            published one when the file's name and item count identify a known
            file (``KNOWN_SHA256``). Unknown files are read without a hash check.

    Returns:
        labels ``(N,)`` or images ``(N, rows, cols)``, dtype uint8.

    Raises:
        FileNotFoundError: no such file.
        IdxFormatError: wrong magic, a header that does not match the file's
            size, damaged gzip data, or a known file whose hash differs.
    """
    path = Path(path)
    stream, _ = _open(path)
    with stream:
        magic_bytes = _read_exactly(stream, 4, path, "IDX magic number")
        (magic,) = struct.unpack(">I", magic_bytes)
        if magic not in _NDIM:
            raise IdxFormatError(
                f"{path}: not an MNIST IDX file: magic number 0x{magic:08x}, expected "
                f"0x{LABELS_MAGIC:08x} (labels) or 0x{IMAGES_MAGIC:08x} (images)."
            )
        if expect_magic is not None and magic != expect_magic:
            kind = {LABELS_MAGIC: "labels", IMAGES_MAGIC: "images"}
            raise IdxFormatError(
                f"{path}: holds {kind[magic]} (magic 0x{magic:08x}) but {kind[expect_magic]} "
                f"(magic 0x{expect_magic:08x}) were expected; are the files swapped?"
            )
        ndim = _NDIM[magic]
        dims_bytes = _read_exactly(stream, 4 * ndim, path, "IDX header")
        dims = struct.unpack(f">{ndim}I", dims_bytes)
        if any(d == 0 for d in dims[1:]):
            raise IdxFormatError(f"{path}: header gives an empty image size {dims[1:]}.")
        size = int(np.prod(dims, dtype=np.int64))
        if size > MAX_DATA_BYTES:
            raise IdxFormatError(
                f"{path}: header promises {size} bytes of data (dims {dims}), more than "
                f"the {MAX_DATA_BYTES} this reader accepts; the header is corrupt."
            )
        data = _read_exactly(stream, size, path, f"data of shape {dims}")
        try:
            extra = stream.read(1)
        except (EOFError, OSError, zlib.error) as error:
            raise IdxFormatError(f"{path}: the gzip data is damaged ({error}).") from None
        if extra:
            raise IdxFormatError(
                f"{path}: file longer than its header says: dims {dims} need "
                f"{4 + 4 * ndim + size} bytes, but there is more data after them."
            )

    if verify:
        known = KNOWN_SHA256.get((_canonical_name(path), dims[0]))
        if known is not None:
            description, want = known
            digest = hashlib.sha256()
            digest.update(magic_bytes)
            digest.update(dims_bytes)
            digest.update(data)
            got = digest.hexdigest()
            if got != want:
                raise IdxFormatError(
                    f"{path}: looks like the {description} ({dims[0]} items) but its SHA-256 "
                    f"is {got}, expected {want}. The file is damaged or a different data "
                    "set with the same name (pass verify=False to read it anyway)."
                )
    # A writeable copy: callers may normalise or augment in place.
    return np.frombuffer(data, dtype=np.uint8).reshape(dims).copy()


def mnist_files(directory: str | Path, split: str) -> tuple[Path, Path]:
    """Find the (images, labels) files of ``split`` ("train" or "test") in ``directory``.

    Accepts the official names with or without '.gz' and Kaggle's spelling
    with a dot ('train-images.idx3-ubyte').
    """
    if split not in _SPLIT_PREFIX:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"MNIST directory {directory} does not exist.")
    prefix = _SPLIT_PREFIX[split]
    found = []
    for kind, ndim in (("images", 3), ("labels", 1)):
        names = [
            f"{prefix}-{kind}-idx{ndim}-ubyte.gz",
            f"{prefix}-{kind}-idx{ndim}-ubyte",
            f"{prefix}-{kind}.idx{ndim}-ubyte.gz",
            f"{prefix}-{kind}.idx{ndim}-ubyte",
        ]
        for name in names:
            if (directory / name).is_file():
                found.append(directory / name)
                break
        else:
            raise FileNotFoundError(
                f"no MNIST {split} {kind} in {directory}: looked for {', '.join(names)}."
            )
    return found[0], found[1]


def load_mnist(
    directory: str | Path, split: str = "train", *, verify: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Load one split of MNIST (official files or the course sample).

    Args:
        directory: folder holding the IDX files (e.g. ``data/mnist-sample``).
        split: "train" or "test" (the ``t10k-*`` files).
        verify: check known files against their SHA-256 (see ``read_idx``).

    Returns:
        ``(images, labels)``: images ``(N, 28, 28)`` uint8 (0 = background,
        255 = ink), labels ``(N,)`` uint8 in 0..9.

    Raises:
        FileNotFoundError: the directory or a file is missing.
        IdxFormatError: a malformed file, image size not 28 x 28, labels
            outside 0..9, or image and label counts that differ.
    """
    images_path, labels_path = mnist_files(directory, split)
    images = read_idx(images_path, expect_magic=IMAGES_MAGIC, verify=verify)
    labels = read_idx(labels_path, expect_magic=LABELS_MAGIC, verify=verify)
    if images.shape[1:] != (28, 28):
        raise IdxFormatError(
            f"{images_path}: images are {images.shape[1]} x {images.shape[2]}, MNIST's are 28 x 28."
        )
    if len(images) != len(labels):
        raise IdxFormatError(
            f"{images_path} holds {len(images)} images but {labels_path} holds "
            f"{len(labels)} labels; the two files do not belong together."
        )
    if labels.size and labels.max() > 9:
        raise IdxFormatError(
            f"{labels_path}: label {int(labels.max())} found; MNIST labels are 0..9."
        )
    return images, labels


if __name__ == "__main__":  # pragma: no cover - a quick look at a folder
    import sys

    folder = sys.argv[1] if len(sys.argv) > 1 else "data/mnist-sample"
    for part in ("train", "test"):
        x, y = load_mnist(folder, part)
        print(f"{part}: images {x.shape} {x.dtype}, labels {y.shape}, counts {np.bincount(y, minlength=10)}")
