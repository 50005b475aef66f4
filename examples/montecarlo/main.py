"""One task of the Monte Carlo job: estimate π from random points of the unit square.

Unlike examples/pi the seed comes from os.urandom, so every run (and every replica) gives a
slightly different estimate: equally right, never byte-identical (the result also records its
seed: two runs may well count the same number of points inside, about once in a thousand
pairs, and their results must still differ, or the network takes them as equal without
asking compare.py). compare.py decides whether two of them agree. Set MONTECARLO_SAMPLES to
change the number of points (default 400,000).
"""

import json
import os
import random

samples = int(os.environ.get("MONTECARLO_SAMPLES", "400000"))
seed = os.urandom(16)
rng = random.Random(seed)
inside = 0
for _ in range(samples):
    x = rng.random()
    y = rng.random()
    if x * x + y * y <= 1.0:
        inside += 1

estimate = 4 * inside / samples
output = os.environ.get("HIVEMIND_OUTPUT", "/output")
with open(os.path.join(output, "result.json"), "w") as handle:
    json.dump({"estimate": estimate, "samples": samples, "seed": seed.hex()}, handle)
task = os.environ.get("HIVEMIND_TASK_INDEX", "?")
print(f"task {task}: pi ~= {estimate:.5f} from {samples} samples")
