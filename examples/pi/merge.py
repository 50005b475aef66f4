"""The π job's aggregate: adds every task's count up into one estimate of π.

HiveMind runs it on the network once the tasks are accepted (on nodes of two owners, whose
outputs must agree), with each task's output read-only in $HIVEMIND_RESULTS/<task>/ and the
job's result going to $HIVEMIND_OUTPUT: result.json (the estimate) and metrics.json (what
`hivemind job status` shows). `python3 merge.py DIR` merges DIR/<task>/result.json by hand
and prints the estimate.
"""

import json
import os
import sys
from pathlib import Path


def merge(results_dir):
    """(π, samples, tasks) from every <task>/result.json under `results_dir`."""
    inside = samples = tasks = 0
    for path in sorted(Path(results_dir).glob("*/result.json")):
        result = json.loads(path.read_text())
        inside += result["inside"]
        samples += result["samples"]
        tasks += 1
    if samples == 0:
        raise SystemExit(f"no results found under {results_dir}/<task>/result.json")
    return 4 * inside / samples, samples, tasks


def main(argv):
    if len(argv) > 1:
        raise SystemExit("usage: python3 merge.py [RESULTS_DIR] (default: $HIVEMIND_RESULTS)")
    results_dir = argv[0] if argv else os.environ.get("HIVEMIND_RESULTS", "")
    if not results_dir:
        raise SystemExit("give the folder of the results, or run it as the job's aggregate")
    pi, samples, tasks = merge(results_dir)
    output = os.environ.get("HIVEMIND_OUTPUT", "")
    if output and not argv:
        result = {"pi": pi, "samples": samples, "tasks": tasks}
        for name, document in (("result.json", result), ("metrics.json", {"pi": pi})):
            with open(os.path.join(output, name), "w") as handle:
                json.dump(document, handle, sort_keys=True)
    print(f"pi ~= {pi:.6f} from {samples} samples in {tasks} tasks")


if __name__ == "__main__":
    main(sys.argv[1:])
