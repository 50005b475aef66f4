"""Sums the word counts of every task: `python3 merge.py DIR [--top N]` where
DIR/<task>/counts.json are the downloaded results. Prints the most frequent words."""

import collections
import json
import sys
from pathlib import Path


def merge(results_dir):
    total = collections.Counter()
    for path in sorted(Path(results_dir).glob("*/counts.json")):
        total.update(json.loads(path.read_text())["counts"])
    return total


if __name__ == "__main__":
    args = sys.argv[1:]
    top = 10
    if "--top" in args:
        where = args.index("--top")
        top = int(args[where + 1])
        del args[where : where + 2]
    if len(args) != 1:
        raise SystemExit("usage: python3 merge.py RESULTS_DIR [--top N]")
    counts = merge(args[0])
    if not counts:
        raise SystemExit(f"no results found under {args[0]}/<task>/counts.json")
    print(f"{sum(counts.values())} words, {len(counts)} distinct")
    for word, n in counts.most_common(top):
        print(f"{n:8d}  {word}")
