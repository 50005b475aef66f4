"""Decides whether two results of a Monte Carlo task agree; HiveMind runs it with the results
unpacked at $HIVEMIND_RESULTS_A and $HIVEMIND_RESULTS_B (/results/a and /results/b).

Exit 0: the estimates are within 6 standard errors of each other (honest runs fail this about
twice in a billion). Exit 1: they differ, were made from different sample counts, or one
result has no readable result.json (a result without an estimate agrees with nothing).
Any other exit (a crash of this script) is an error: HiveMind asks another node to compare.
"""

import json
import math
import os
import sys

SIGMAS = 6


class MalformedResult(Exception):
    """A result.json this script cannot judge."""


def load(folder):
    path = os.path.join(folder, "result.json")
    try:
        with open(path, encoding="utf-8") as handle:
            result = json.load(handle)
        estimate, samples = result["estimate"], result["samples"]
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise MalformedResult(f"cannot read {path}: {exc}") from None
    # Booleans are ints in Python; a result saying samples=true is malformed, not tiny.
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 1:
        raise MalformedResult(f"{path}: samples must be a positive whole number")
    if isinstance(estimate, bool) or not isinstance(estimate, int | float):
        raise MalformedResult(f"{path}: estimate must be a number")
    if not 0.0 <= estimate <= 4.0:  # also false for NaN
        raise MalformedResult(f"{path}: estimate {estimate} is outside [0, 4]")
    return float(estimate), samples


def tolerance(estimate_a, estimate_b, samples):
    """SIGMAS standard errors of the difference of two independent estimates of n samples."""
    # Each estimate is 4 x a binomial proportion p; its variance is 16 p (1 - p) / n. p comes
    # from both estimates, floored so a pair of extreme values cannot shrink it to zero.
    p = min(max((estimate_a + estimate_b) / 8, 0.01), 0.99)
    standard_error = 4 * math.sqrt(p * (1 - p) / samples)
    return SIGMAS * math.sqrt(2) * standard_error


def main():
    try:
        estimate_a, samples_a = load(os.environ.get("HIVEMIND_RESULTS_A", "/results/a"))
        estimate_b, samples_b = load(os.environ.get("HIVEMIND_RESULTS_B", "/results/b"))
    except MalformedResult as exc:
        print(f"different: {exc}")
        return 1
    if samples_a != samples_b:
        print(f"different: made from {samples_a} and {samples_b} samples")
        return 1
    gap = abs(estimate_a - estimate_b)
    limit = tolerance(estimate_a, estimate_b, samples_a)
    verdict = "equivalent" if gap <= limit else "different"
    print(f"{verdict}: {estimate_a} vs {estimate_b}, gap {gap:.6f}, tolerance {limit:.6f}")
    return 0 if gap <= limit else 1


if __name__ == "__main__":
    sys.exit(main())
