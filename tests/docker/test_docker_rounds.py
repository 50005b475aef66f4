"""Jobs with rounds in the Docker runtime image: a round's model is mounted read-only at
/model, and its aggregate gets every accepted output of the round read-only under /results,
beside the package at /task; the only writable place is /output.

Skips locally without dockerd or the image; fails under CI=true (see conftest.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from app.services.executors.docker.config import build_plan
from app.services.unpack import make_read_only

pytestmark = pytest.mark.docker

# Reads what it was given, and tries to change the model and an output.
AGGREGATE = """\
import os, pathlib

env = {k: os.environ[k] for k in ("HIVEMIND_MODEL", "HIVEMIND_RESULTS", "HIVEMIND_ROUND",
                                  "HIVEMIND_ROUNDS", "HIVEMIND_INPUT")}
print("env", sorted(env.items()))
model = pathlib.Path(env["HIVEMIND_MODEL"])
results = pathlib.Path(env["HIVEMIND_RESULTS"])
print("model", (model / "model.txt").read_text())
for folder in sorted(results.iterdir()):
    print("output", folder.name, sorted(p.name for p in folder.iterdir()))
for target in (model / "model.txt", results / "0" / "update.txt", results / "new.txt"):
    try:
        target.write_text("changed")
        print("wrote", target)
    except OSError as exc:
        print(f"cannot write {target}: {exc.strerror}")
pathlib.Path(os.environ["HIVEMIND_OUTPUT"], "model.txt").write_text("next")
"""


def round_folders(root: Path) -> tuple[Path, Path]:
    """A model and two outputs (one empty), made read-only as the worker makes them."""
    model = root / "model"
    model.mkdir(parents=True)
    (model / "model.txt").write_text("weights of round 1")
    outputs = root / "results"
    (outputs / "0").mkdir(parents=True)
    (outputs / "0" / "update.txt").write_text("update 0")
    (outputs / "1").mkdir()
    make_read_only(model)
    make_read_only(outputs)
    return model, outputs


async def test_the_model_and_the_rounds_outputs_are_read_only(executor, make_spec, tmp_path):
    model, outputs = round_folders(tmp_path / "round")
    spec = make_spec(
        AGGREGATE, task_index=-1, model_dir=model, round_outputs_dir=outputs, round=1, rounds=3
    )

    result = await executor.run(spec, asyncio.Event())

    assert result.ok, result.log
    assert (
        "env [('HIVEMIND_INPUT', ''), ('HIVEMIND_MODEL', '/model'), ('HIVEMIND_RESULTS', "
        "'/results'), ('HIVEMIND_ROUND', '1'), ('HIVEMIND_ROUNDS', '3')]"
    ) in result.log
    assert "model weights of round 1" in result.log
    assert "output 0 ['update.txt']" in result.log and "output 1 []" in result.log
    for target in ("/model/model.txt", "/results/0/update.txt", "/results/new.txt"):
        assert f"cannot write {target}: Read-only file system" in result.log
    assert (model / "model.txt").read_text() == "weights of round 1"
    assert (spec.output_dir / "model.txt").read_text() == "next"


def test_plan_mounts_a_model_and_outputs_only_when_the_task_has_them(make_spec, tmp_path):
    model, outputs = round_folders(tmp_path / "round")
    aggregate = build_plan(
        make_spec("pass", model_dir=model, round_outputs_dir=outputs, round=2, rounds=3),
        "img",
        instance="t",
        user=(1, 1),
    )
    mounts = {target: (host, read_only) for host, target, read_only in aggregate.mounts}
    assert mounts["/model"] == (str(model.resolve()), True)
    assert mounts["/results"] == (str(outputs.resolve()), True)
    assert mounts["/output"][1] is False
    assert aggregate.environment["HIVEMIND_ROUND"] == "2"

    first_round = build_plan(make_spec("pass"), "img", instance="t", user=(1, 1))
    targets = {target for _, target, _ in first_round.mounts}
    assert "/model" not in targets and "/results" not in targets
    assert first_round.environment["HIVEMIND_MODEL"] == ""
    assert first_round.environment["HIVEMIND_RESULTS"] == ""
    assert first_round.environment["HIVEMIND_ROUNDS"] == "1"
