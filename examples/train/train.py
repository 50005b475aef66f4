"""One worker's round: start from the current model, train on this task's shard, write the
update. HiveMind runs it with

  HIVEMIND_MODEL   the current model's directory (read-only; model.npy inside). Unset or
                   empty in round 0: the model starts from the fixed seed in digits_mlp.py.
  HIVEMIND_INPUT   this task's shard (a CSV file written by shard.py)
  HIVEMIND_OUTPUT  where the result goes: update.npy (the pseudo-gradient: starting weights
                   minus trained weights, as DiLoCo averages it) and train.json (what it
                   started from, by digest, and the loss before and after)

Training is `--steps` steps of AdamW on minibatches of the shard, with strong weight decay
and label smoothing (each worker sees a quarter of a small data set for many epochs a round:
without them the workers' models drift apart and their average generalises worse than the
single-machine model; the README has the numbers). It is deterministic: one thread, and the
minibatch order seeded from the digests of the model and the shard, so two honest replicas
of a task on the same kind of CPU write byte-identical results (on other CPUs the floating
point may differ in the last bits: compare.py judges those).
"""

import argparse
import hashlib
import os
import sys
from pathlib import Path

# Before numpy and torch start their thread pools: one thread keeps the arithmetic in one
# order (deterministic), and a one-core task has no use for more.
for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = "1"

import numpy as np  # noqa: E402
import torch  # noqa: E402
from digits_mlp import (  # noqa: E402
    REPORT_FILE,
    UPDATE_FILE,
    DataError,
    features_labels,
    file_sha256,
    flatten,
    load_rows,
    save_vector,
    starting_model,
    unflatten,
    write_json,
)


def build_network(parameters: np.ndarray) -> torch.nn.Sequential:
    w1, b1, w2, b2 = unflatten(parameters)
    network = torch.nn.Sequential(
        torch.nn.Linear(w1.shape[1], w1.shape[0]),
        torch.nn.ReLU(),
        torch.nn.Linear(w2.shape[1], w2.shape[0]),
    )
    with torch.no_grad():
        for parameter, value in zip(network.parameters(), (w1, b1, w2, b2), strict=True):
            parameter.copy_(torch.from_numpy(value.copy()))
    return network


def shard_loss(network: torch.nn.Module, features: torch.Tensor, labels: torch.Tensor) -> float:
    with torch.no_grad():
        return float(torch.nn.functional.cross_entropy(network(features), labels))


def train(args: argparse.Namespace) -> dict:
    model_dir = os.environ.get("HIVEMIND_MODEL", "")
    input_path = os.environ.get("HIVEMIND_INPUT", "")
    output_dir = Path(os.environ.get("HIVEMIND_OUTPUT", "/output"))
    if not input_path:
        raise DataError("no input shard: HIVEMIND_INPUT is empty (submit with --input FILE)")
    start, base = starting_model(model_dir)
    input_sha256 = file_sha256(Path(input_path))
    features_np, labels_np = features_labels(load_rows(Path(input_path)))
    features, labels = torch.from_numpy(features_np), torch.from_numpy(labels_np)

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    # The same model and shard give the same minibatches; another round or shard, others.
    seed = int.from_bytes(hashlib.sha256(f"{base}:{input_sha256}".encode()).digest()[:7], "big")
    generator = torch.Generator().manual_seed(seed)
    network = build_network(start)
    optimizer = torch.optim.AdamW(
        network.parameters(), lr=args.lr, weight_decay=args.weight_decay, betas=(0.9, 0.99)
    )
    loss_before = shard_loss(network, features, labels)
    batch = min(args.batch_size, len(labels))
    order, position = torch.randperm(len(labels), generator=generator), 0
    for _ in range(args.steps):
        if position + batch > len(order):  # a new epoch: a new shuffle
            order, position = torch.randperm(len(labels), generator=generator), 0
        index = order[position : position + batch]
        position += batch
        loss = torch.nn.functional.cross_entropy(
            network(features[index]), labels[index], label_smoothing=args.label_smoothing
        )
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    trained = flatten([p.detach().numpy() for p in network.parameters()])
    save_vector(output_dir / UPDATE_FILE, start - trained)
    report = {
        "base": base,
        "input": input_sha256,
        "steps": args.steps,
        "samples": len(labels),
        "loss_before": round(loss_before, 6),
        "loss_after": round(shard_loss(network, features, labels), 6),
    }
    write_json(output_dir / REPORT_FILE, report)
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description="one worker's round of training")
    parser.add_argument("--steps", type=int, default=250, help="local steps (H)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-3, help="inner AdamW learning rate")
    parser.add_argument("--weight-decay", type=float, default=1.0)
    parser.add_argument("--label-smoothing", type=float, default=0.2)
    args = parser.parse_args()
    if args.steps < 1 or args.batch_size < 1 or args.lr <= 0 or args.weight_decay < 0:
        parser.error("--steps and --batch-size must be at least 1, --lr above 0")
    if not 0 <= args.label_smoothing < 1:
        parser.error("--label-smoothing must be in [0, 1)")
    try:
        report = train(args)
    except (DataError, OSError) as exc:
        print(f"train: {exc}", file=sys.stderr)
        return 1
    print(
        f"trained {report['steps']} steps on {report['samples']} samples from "
        f"{report['base'][:12]}: loss {report['loss_before']:.4f} -> {report['loss_after']:.4f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
