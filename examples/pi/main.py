"""One task of the π job: count random points of the unit square inside the quarter circle.

The seed is the task index, so a task's result is the same on every machine (replicas agree).
Set PI_SAMPLES to change the number of points (default 2,000,000).
"""

import json
import os
import random

task = int(os.environ.get("HIVEMIND_TASK_INDEX", "0"))
samples = int(os.environ.get("PI_SAMPLES", "2000000"))
rng = random.Random(task)
inside = 0
for _ in range(samples):
    x = rng.random()
    y = rng.random()
    if x * x + y * y <= 1.0:
        inside += 1

output = os.environ.get("HIVEMIND_OUTPUT", ".")
with open(os.path.join(output, "result.json"), "w") as handle:
    json.dump({"inside": inside, "samples": samples, "task": task}, handle)
print(f"task {task}: {inside} of {samples} points inside")
