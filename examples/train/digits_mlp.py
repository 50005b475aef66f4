"""The digits data set and the network trained on it, shared by the example's scripts.

Numpy only (no torch), so the aggregate and the shard script start fast. The data set is
scikit-learn's digits (1,797 8x8 images of handwritten digits, 10 classes): the CSV file ships
inside the scikit-learn package, so nothing is downloaded. It is read straight from that
file, without importing scikit-learn (which takes a second and a half).

The model is an MLP 64 -> HIDDEN -> 10 with a ReLU. Everything that travels (the model, a
worker's update, the outer optimizer's momentum) is one flat float32 vector saved with
`numpy.save`, whose bytes depend only on the values: two equal models are byte-identical
files. The parameters lie in the order of torch's `nn.Sequential(Linear, ReLU, Linear)`
state dict: weight 1 (HIDDEN x 64), bias 1, weight 2 (10 x HIDDEN), bias 2.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import json
from pathlib import Path

import numpy as np

FEATURES = 64
CLASSES = 10
HIDDEN = 128
PIXEL_MAX = 16.0  # digits pixels are whole numbers 0..16

# Fixed seeds: every node, and the aggregate, derives the same split and the same first model.
SPLIT_SEED = 0
INIT_SEED = 1
HELDOUT_FRACTION = 0.2

# File names inside a model directory (an aggregate's output) and a worker's output.
MODEL_FILE = "model.npy"
MOMENTUM_FILE = "momentum.npy"
METRICS_FILE = "metrics.json"
UPDATE_FILE = "update.npy"
REPORT_FILE = "train.json"
# What a worker records as its starting model in round 0, when there is no model file.
INITIAL_MODEL = "initial"

SHAPES = ((HIDDEN, FEATURES), (HIDDEN,), (CLASSES, HIDDEN), (CLASSES,))
PARAMETERS = sum(int(np.prod(shape)) for shape in SHAPES)


class DataError(Exception):
    """A data or model file this example cannot use; the message says why in one line."""


def digits_csv() -> Path:
    """Where scikit-learn keeps its copy of the digits data set."""
    spec = importlib.util.find_spec("sklearn")  # finds the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise DataError("scikit-learn is not installed (it ships the digits data set)")
    return Path(spec.submodule_search_locations[0], "datasets", "data", "digits.csv.gz")


def load_rows(path: Path) -> np.ndarray:
    """Rows of 64 pixels and a label, as integers, from a digits CSV (gzipped or not)."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="ascii") as handle:
            rows = np.loadtxt(handle, delimiter=",", dtype=np.int64, ndmin=2)
    except (OSError, ValueError, EOFError) as exc:
        raise DataError(f"cannot read digits from {path}: {exc}") from None
    if rows.shape[1] != FEATURES + 1 or len(rows) == 0:
        raise DataError(f"{path}: expected rows of {FEATURES} pixels and a label")
    if rows[:, :FEATURES].min() < 0 or rows[:, :FEATURES].max() > PIXEL_MAX:
        raise DataError(f"{path}: pixels must be between 0 and {PIXEL_MAX:g}")
    if rows[:, FEATURES].min() < 0 or rows[:, FEATURES].max() >= CLASSES:
        raise DataError(f"{path}: labels must be between 0 and {CLASSES - 1}")
    return rows


def split_rows() -> tuple[np.ndarray, np.ndarray]:
    """(training rows, held-out rows): a fixed shuffle of the data set, 20% held out."""
    rows = load_rows(digits_csv())
    order = np.random.RandomState(SPLIT_SEED).permutation(len(rows))
    heldout = round(len(rows) * HELDOUT_FRACTION)
    return rows[order[heldout:]], rows[order[:heldout]]


def features_labels(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return (rows[:, :FEATURES] / PIXEL_MAX).astype(np.float32), rows[:, FEATURES].copy()


def initial_parameters() -> np.ndarray:
    """The round-0 model: uniform in +-1/sqrt(fan_in) (torch's default for Linear), drawn
    with numpy's legacy generator, whose stream is the same on every platform and version."""
    rng = np.random.RandomState(INIT_SEED)
    parts = []
    for shape in SHAPES:
        fan_in = shape[1] if len(shape) == 2 else parts[-1].shape[1]
        bound = 1.0 / np.sqrt(fan_in)
        parts.append(rng.uniform(-bound, bound, size=shape).astype(np.float32))
    return flatten(parts)


def flatten(parts: list[np.ndarray]) -> np.ndarray:
    return np.concatenate([np.asarray(part, dtype=np.float32).ravel() for part in parts])


def unflatten(vector: np.ndarray) -> list[np.ndarray]:
    parts, start = [], 0
    for shape in SHAPES:
        size = int(np.prod(shape))
        parts.append(vector[start : start + size].reshape(shape))
        start += size
    return parts


def save_vector(path: Path, vector: np.ndarray) -> None:
    np.save(path, np.ascontiguousarray(vector, dtype=np.float32), allow_pickle=False)


def load_vector(path: Path) -> np.ndarray:
    """A parameter-sized float32 vector with only finite values, or DataError."""
    try:
        vector = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise DataError(f"cannot read {path}: {exc}") from None
    if vector.dtype != np.float32 or vector.shape != (PARAMETERS,):
        raise DataError(
            f"{path}: expected {PARAMETERS} float32 values, got {vector.dtype} {vector.shape}"
        )
    if not np.isfinite(vector).all():
        raise DataError(f"{path}: holds NaN or infinite values")
    return vector


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def starting_model(model_dir: str) -> tuple[np.ndarray, str]:
    """(parameters, what they are: the model file's SHA-256, or "initial" in round 0, when
    there is no model directory)."""
    if not model_dir:
        return initial_parameters(), INITIAL_MODEL
    path = Path(model_dir, MODEL_FILE)
    return load_vector(path), file_sha256(path)


def evaluate(parameters: np.ndarray, rows: np.ndarray) -> tuple[float, float]:
    """(accuracy, mean cross-entropy) of the model on `rows`, in float64."""
    features, labels = features_labels(rows)
    w1, b1, w2, b2 = (part.astype(np.float64) for part in unflatten(parameters))
    hidden = np.maximum(features @ w1.T + b1, 0.0)
    logits = hidden @ w2.T + b2
    logits -= logits.max(axis=1, keepdims=True)
    log_probs = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    loss = -log_probs[np.arange(len(labels)), labels].mean()
    accuracy = (logits.argmax(axis=1) == labels).mean()
    return float(accuracy), float(loss)


def write_json(path: Path, document: dict) -> None:
    """Stable bytes: sorted keys, so equal documents make equal files (and equal digests)."""
    path.write_text(json.dumps(document, sort_keys=True, indent=1) + "\n", encoding="utf-8")
