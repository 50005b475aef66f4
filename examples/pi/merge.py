"""Merges the π job's results: `python3 merge.py DIR` where DIR/<task>/result.json are the
downloaded results (`hivemind job results JOB --out DIR`). Prints the estimate."""

import json
import sys
from pathlib import Path


def merge(results_dir):
    inside = samples = tasks = 0
    for path in sorted(Path(results_dir).glob("*/result.json")):
        result = json.loads(path.read_text())
        inside += result["inside"]
        samples += result["samples"]
        tasks += 1
    if samples == 0:
        raise SystemExit(f"no results found under {results_dir}/<task>/result.json")
    return 4 * inside / samples, samples, tasks


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python3 merge.py RESULTS_DIR")
    pi, samples, tasks = merge(sys.argv[1])
    print(f"pi ~= {pi:.6f} from {samples} samples in {tasks} tasks")
