"""One task of the word count: counts the words of the file in $HIVEMIND_INPUT.

A word is a run of letters, digits or underscores, compared in lower case.
Writes $HIVEMIND_OUTPUT/counts.json: {"input": name, "words": total, "counts": {word: n}}.
"""

import collections
import json
import os
import re

input_path = os.environ.get("HIVEMIND_INPUT", "")
if not input_path:
    raise SystemExit("this job needs one input file per task (submit with --input FILE)")
with open(input_path, encoding="utf-8", errors="replace") as handle:
    counts = collections.Counter(re.findall(r"\w+", handle.read().lower()))

output = os.environ.get("HIVEMIND_OUTPUT", ".")
result = {
    "input": os.path.basename(input_path),
    "words": sum(counts.values()),
    "counts": dict(sorted(counts.items())),
}
with open(os.path.join(output, "counts.json"), "w") as handle:
    json.dump(result, handle, indent=1, sort_keys=True)
print(f"{result['input']}: {result['words']} words, {len(counts)} distinct")
