"""Splits the digits training set into one input file per worker:
`python3 shard.py OUT_DIR --workers N` writes OUT_DIR/shard-00.csv ... (rows of 64 pixels and
a label, as in scikit-learn's digits.csv.gz). The held-out fifth of the data set is never in a
shard: the aggregate scores each round's model on it. `--workers 1` gives the whole training
set in one file (the single-machine baseline trains on it).
"""

import argparse
import os
import sys
from pathlib import Path

import numpy as np
from digits_mlp import DataError, split_rows


def write_shards(out_dir: Path, workers: int) -> list[Path]:
    training, _ = split_rows()
    if not 1 <= workers <= len(training):
        raise DataError(f"--workers must be between 1 and {len(training)}, not {workers}")
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(workers):
        path = out_dir / f"shard-{index:02d}.csv"
        # Every N-th row: shards of equal size (give or take one) and the same class mix.
        np.savetxt(path, training[index::workers], fmt="%d", delimiter=",")
        paths.append(path)
    return paths


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "out_dir",
        type=Path,
        nargs="?",
        default=os.environ.get("HIVEMIND_OUTPUT"),
        help="default: $HIVEMIND_OUTPUT (run as a task)",
    )
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    if args.out_dir is None:
        parser.error("give the directory to write the shards to")
    try:
        paths = write_shards(args.out_dir, args.workers)
    except (DataError, OSError) as exc:
        print(f"shard: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {len(paths)} shards to {args.out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
