"""Decides whether two results of a training task, or of an aggregate, agree; HiveMind runs
it with the results unpacked at $HIVEMIND_RESULTS_A and $HIVEMIND_RESULTS_B (/results/a and
/results/b). Two honest replicas on the same kind of CPU write byte-identical files, and the
network accepts them by digest without asking; on different CPUs the last bits of floating
point may differ, and this script judges.

Exit 0: both hold the same files; every array (update.npy, model.npy, momentum.npy) has the
same shape and lies within a relative distance of RTOL of the other; the JSON reports agree
(same digests, counts and names; numbers within JSON_TOLERANCE). Exit 1: anything else,
including a result this script cannot read. Any other exit (a crash) is an error: HiveMind
asks another node to compare.
"""

import json
import math
import os
import sys
from pathlib import Path

os.environ["OPENBLAS_NUM_THREADS"] = "1"

import numpy as np

# Replicas run with other CPU kernels (AVX-512, AVX2, none) differ by about 1e-6 relative,
# now and then by up to 1.3e-3 (AdamW turns a flipped sign of a tiny gradient into a whole
# step): the README has the measurement. A poisoned, lazy or empty update is off by order 1.
RTOL = 1e-2
# Losses and accuracies: a flipped prediction of 359 moves the accuracy by 0.003.
JSON_TOLERANCE = 0.01


class Different(Exception):
    """The two results do not agree; the message says where."""


def compare_arrays(path_a: Path, path_b: Path) -> None:
    try:
        a = np.load(path_a, allow_pickle=False).astype(np.float64)
        b = np.load(path_b, allow_pickle=False).astype(np.float64)
    except (OSError, ValueError, EOFError) as exc:
        raise Different(f"cannot read {path_a.name}: {exc}") from None
    if a.shape != b.shape:
        raise Different(f"{path_a.name}: shapes {a.shape} and {b.shape}")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise Different(f"{path_a.name}: NaN or infinite values")
    gap = float(np.linalg.norm(a - b))
    scale = max(float(np.linalg.norm(a)), float(np.linalg.norm(b)), 1e-12)
    if gap > RTOL * scale:
        raise Different(f"{path_a.name}: relative distance {gap / scale:.3g} > {RTOL:g}")


def compare_values(name: str, a: object, b: object) -> None:
    numbers = (int, float)
    if isinstance(a, bool) or isinstance(b, bool) or (isinstance(a, int) and isinstance(b, int)):
        if a != b:
            raise Different(f"{name}: {a!r} and {b!r}")
    elif isinstance(a, numbers) and isinstance(b, numbers):
        if not math.isfinite(a) or not math.isfinite(b) or abs(a - b) > JSON_TOLERANCE:
            raise Different(f"{name}: {a!r} and {b!r}")
    elif a != b:  # strings (digests, names), lists, None
        raise Different(f"{name}: {a!r} and {b!r}")


def compare_json(path_a: Path, path_b: Path) -> None:
    try:
        a = json.loads(path_a.read_text(encoding="utf-8"))
        b = json.loads(path_b.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise Different(f"cannot read {path_a.name}: {exc}") from None
    if not isinstance(a, dict) or not isinstance(b, dict) or a.keys() != b.keys():
        raise Different(f"{path_a.name}: different fields")
    for key in sorted(a):
        compare_values(f"{path_a.name} {key}", a[key], b[key])


def compare(dir_a: Path, dir_b: Path) -> int:
    """How many files agree; raises Different at the first that does not."""
    names_a = sorted(p.name for p in dir_a.iterdir()) if dir_a.is_dir() else []
    names_b = sorted(p.name for p in dir_b.iterdir()) if dir_b.is_dir() else []
    if names_a != names_b or not names_a:
        raise Different(f"different files: {names_a} and {names_b}")
    for name in names_a:
        if name.endswith(".npy"):
            compare_arrays(dir_a / name, dir_b / name)
        elif name.endswith(".json"):
            compare_json(dir_a / name, dir_b / name)
        elif (dir_a / name).read_bytes() != (dir_b / name).read_bytes():
            raise Different(f"{name} differs")
    return len(names_a)


def main() -> int:
    dir_a = Path(os.environ.get("HIVEMIND_RESULTS_A", "/results/a"))
    dir_b = Path(os.environ.get("HIVEMIND_RESULTS_B", "/results/b"))
    try:
        files = compare(dir_a, dir_b)
    except Different as exc:
        print(f"different: {exc}")
        return 1
    print(f"equivalent: {files} files agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
