"""The round's aggregate: combines the workers' updates into the next model (DiLoCo's outer
step). HiveMind runs it with

  HIVEMIND_MODEL    the previous model's directory (read-only; unset or empty after round 0's
                    workers, whose model was the fixed-seed one)
  HIVEMIND_RESULTS  a directory holding one directory per accepted worker output (read-only;
                    /results/<task>/update.npy and train.json). Names do not matter.
  HIVEMIND_OUTPUT   the next model's directory: model.npy, momentum.npy (the outer
                    optimizer's state, read back next round) and metrics.json

The outer step is SGD with Nesterov momentum on the combined pseudo-gradient, as DiLoCo does.
`--rule` says how the updates are combined: `mean` (federated averaging), or, against
workers that send garbage, the coordinate-wise `median` or `trimmed-mean` (drops the
`--trim` fraction of the largest and of the smallest values of each coordinate). An update
of the wrong shape, with NaN or infinity, or trained from another model than this round's is
left out, and said so. metrics.json gives the new model's accuracy and loss on the held-out
fifth of the data set.
"""

import argparse
import json
import os
import sys
from pathlib import Path

os.environ["OPENBLAS_NUM_THREADS"] = "1"  # before numpy: one thread, one order of arithmetic

import numpy as np
from digits_mlp import (
    METRICS_FILE,
    MODEL_FILE,
    MOMENTUM_FILE,
    REPORT_FILE,
    UPDATE_FILE,
    DataError,
    evaluate,
    load_vector,
    save_vector,
    split_rows,
    starting_model,
    write_json,
)

RULES = ("mean", "median", "trimmed-mean")


def combine(updates: np.ndarray, rule: str, trim: float) -> np.ndarray:
    """One pseudo-gradient from the (workers x parameters) updates, coordinate by coordinate."""
    if rule == "mean":
        return updates.mean(axis=0)
    if rule == "median":
        return np.median(updates, axis=0)
    cut = min(int(trim * len(updates)), (len(updates) - 1) // 2)
    ordered = np.sort(updates, axis=0)
    return ordered[cut : len(updates) - cut].mean(axis=0)


def accepted_updates(results_dir: Path, base: str) -> tuple[list[np.ndarray], list[dict]]:
    """The usable updates under `results_dir` and their reports; says why it skips others."""
    if not results_dir.is_dir():
        raise DataError(f"no results directory at {results_dir} (HIVEMIND_RESULTS)")
    updates, reports = [], []
    for result in sorted(path for path in results_dir.iterdir() if path.is_dir()):
        try:
            update = load_vector(result / UPDATE_FILE)
            report = json.loads((result / REPORT_FILE).read_text(encoding="utf-8"))
            if not isinstance(report, dict) or report.get("base") != base:
                raise DataError("it was trained from another model than this round's")
        except (DataError, OSError, ValueError) as exc:
            print(f"left out {result.name}: {exc}")
            continue
        updates.append(update)
        reports.append(report)
    return updates, reports


def mean_train_loss(reports: list[dict]) -> float | None:
    """The workers' mean loss after training, from the reports that give a finite one."""
    losses = [r.get("loss_after") for r in reports]
    losses = [x for x in losses if isinstance(x, int | float) and np.isfinite(x)]
    return round(float(np.mean(losses)), 6) if losses else None


def aggregate(args: argparse.Namespace) -> dict:
    model_dir = os.environ.get("HIVEMIND_MODEL", "")
    results_dir = Path(os.environ.get("HIVEMIND_RESULTS", "/results"))
    output_dir = Path(os.environ.get("HIVEMIND_OUTPUT", "/output"))
    parameters, base = starting_model(model_dir)
    momentum = np.zeros_like(parameters, dtype=np.float64)
    round_index = 0
    if model_dir:
        momentum = load_vector(Path(model_dir, MOMENTUM_FILE)).astype(np.float64)
        previous = json.loads(Path(model_dir, METRICS_FILE).read_text(encoding="utf-8"))
        round_index = int(previous["round"]) + 1
    updates, reports = accepted_updates(results_dir, base)
    if not updates:
        raise DataError(f"no usable update under {results_dir}")

    # Float64 throughout, rounded to float32 once: every step is elementwise or a sort, so the
    # result does not depend on the CPU's vector width.
    pseudo_gradient = combine(np.stack(updates).astype(np.float64), args.rule, args.trim)
    momentum = args.momentum * momentum + pseudo_gradient
    step = pseudo_gradient + args.momentum * momentum if args.nesterov else momentum
    new_parameters = (parameters.astype(np.float64) - args.outer_lr * step).astype(np.float32)

    save_vector(output_dir / MODEL_FILE, new_parameters)
    save_vector(output_dir / MOMENTUM_FILE, momentum.astype(np.float32))
    _, heldout = split_rows()
    accuracy, loss = evaluate(new_parameters, heldout)
    metrics = {
        "round": round_index,
        "accuracy": round(accuracy, 6),
        "loss": round(loss, 6),
        "rule": args.rule,
        "results": len(updates),
        "train_loss": mean_train_loss(reports),
    }
    write_json(output_dir / METRICS_FILE, metrics)
    return metrics


def main() -> int:
    parser = argparse.ArgumentParser(description="combine a round's updates into the next model")
    parser.add_argument("--rule", choices=RULES, default="mean")
    parser.add_argument("--trim", type=float, default=0.25, help="for trimmed-mean, per side")
    parser.add_argument("--outer-lr", type=float, default=0.7)
    parser.add_argument("--momentum", type=float, default=0.9)
    parser.add_argument("--no-nesterov", dest="nesterov", action="store_false")
    args = parser.parse_args()
    if not 0 <= args.trim < 0.5 or args.outer_lr <= 0 or not 0 <= args.momentum < 1:
        parser.error("--trim must be in [0, 0.5), --outer-lr above 0, --momentum in [0, 1)")
    try:
        metrics = aggregate(args)
    except (DataError, OSError, ValueError, KeyError) as exc:
        print(f"aggregate: {exc}", file=sys.stderr)
        return 1
    print(
        f"round {metrics['round']}: {metrics['results']} updates ({metrics['rule']}), "
        f"held-out accuracy {metrics['accuracy']:.4f}, loss {metrics['loss']:.4f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
