"""The word count's aggregate: sums the counts of every task into one.

HiveMind runs it on the network once the tasks are accepted (on nodes of two owners, whose
outputs must agree), with each task's counts.json read-only in $HIVEMIND_RESULTS/<task>/ and
the job's result going to $HIVEMIND_OUTPUT: counts.json (every word) and metrics.json (what
`hivemind job status` shows). It prints the most frequent words. `python3 merge.py DIR
[--top N]` merges DIR/<task>/counts.json by hand.
"""

import collections
import json
import os
import sys
from pathlib import Path


def merge(results_dir):
    total = collections.Counter()
    for path in sorted(Path(results_dir).glob("*/counts.json")):
        total.update(json.loads(path.read_text())["counts"])
    return total


def main(args):
    top = 10
    if "--top" in args:
        where = args.index("--top")
        top = int(args[where + 1])
        del args[where : where + 2]
    if len(args) > 1:
        raise SystemExit("usage: python3 merge.py [RESULTS_DIR] [--top N]")
    results_dir = args[0] if args else os.environ.get("HIVEMIND_RESULTS", "")
    if not results_dir:
        raise SystemExit("give the folder of the results, or run it as the job's aggregate")
    counts = merge(results_dir)
    if not counts:
        raise SystemExit(f"no results found under {results_dir}/<task>/counts.json")
    words, distinct = sum(counts.values()), len(counts)
    output = os.environ.get("HIVEMIND_OUTPUT", "")
    if output and not args:
        result = {"words": words, "distinct": distinct, "counts": dict(sorted(counts.items()))}
        metrics = {"words": words, "distinct": distinct}
        for name, document in (("counts.json", result), ("metrics.json", metrics)):
            with open(os.path.join(output, name), "w") as handle:
                json.dump(document, handle, indent=1, sort_keys=True)
    print(f"{words} words, {distinct} distinct")
    # Most frequent first; equal counts in alphabetical order, so every run prints the same.
    for word, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:top]:
        print(f"{n:8d}  {word}")


if __name__ == "__main__":
    main(sys.argv[1:])
