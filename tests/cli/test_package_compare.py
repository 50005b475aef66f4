"""hivemind.toml `[job] compare` and `compare_timeout_s` (issue 6): read, checked, and
overridden by flags; every wrong value is one clear line naming the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.services.jobs.package import PackageError, load_package

BASE = '[job]\nname = "mc"\ncommand = ["python3", "main.py"]\n'


def make_package(root: Path, job_lines: str = "", resources: str = "") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    manifest = BASE + job_lines + ("\n[resources]\n" + resources if resources else "")
    (root / "hivemind.toml").write_text(manifest)
    (root / "main.py").write_text("print('hi')\n")
    return root


def test_compare_and_its_timeout_are_read(tmp_path):
    root = make_package(
        tmp_path / "pkg",
        'replicas = 2\ncompare = ["python3", "/task/compare.py", "--tol", "1e-6"]\n'
        "compare_timeout_s = 20\n",
    )
    package = load_package(root)
    assert package.spec.compare_command == ["python3", "/task/compare.py", "--tol", "1e-6"]
    assert package.spec.compare_timeout_s == 20
    assert package.warnings == []  # both keys are known, not "ignored"


def test_without_compare_results_agree_by_digest(tmp_path):
    spec = load_package(make_package(tmp_path / "pkg")).spec
    assert spec.compare_command == [] and spec.compare_timeout_s is None


def test_compare_with_one_replica_is_allowed(tmp_path):
    # Spot checks of trusted nodes compare results too, so replicas = 1 is not an error.
    spec = load_package(make_package(tmp_path / "pkg", 'compare = ["python3", "c.py"]\n')).spec
    assert spec.replicas == 1 and spec.compare_command == ["python3", "c.py"]
    assert spec.compare_timeout_s is None  # the server's default applies


@pytest.mark.parametrize(
    ("job_lines", "resources", "message"),
    [
        ('compare = "python3 compare.py"\n', "", "compare must be a non-empty list of strings"),
        ("compare = []\n", "", "compare must be a non-empty list of strings"),
        ('compare = ["python3", 3]\n', "", "compare must be a list of non-empty strings"),
        ('compare = ["python3", ""]\n', "", "compare must be a list of non-empty strings"),
        ("compare = { cmd = 1 }\n", "", "compare must be a non-empty list of strings"),
        ('compare = ["c"]\ncompare_timeout_s = "60"\n', "", "compare_timeout_s must be a whole"),
        ('compare = ["c"]\ncompare_timeout_s = 1.5\n', "", "compare_timeout_s must be a whole"),
        ('compare = ["c"]\ncompare_timeout_s = true\n', "", "compare_timeout_s must be a whole"),
        ('compare = ["c"]\ncompare_timeout_s = 0\n', "", "compare_timeout_s must be at least 1"),
        ('compare = ["c"]\ncompare_timeout_s = -5\n', "", "compare_timeout_s must be at least 1"),
        ("compare_timeout_s = 30\n", "", "compare_timeout_s needs a compare command"),
        (
            'compare = ["c"]\ncompare_timeout_s = 90\n',
            "timeout_s = 60\n",
            "compare_timeout_s (90) must not be above the task timeout_s (60)",
        ),
    ],
)
def test_bad_compare_settings(tmp_path, job_lines, resources, message):
    root = make_package(tmp_path / "pkg", job_lines, resources)
    with pytest.raises(PackageError) as caught:
        load_package(root)
    text = str(caught.value)
    assert message in text
    assert str(root / "hivemind.toml") in text
    assert "\n" not in text


def test_flags_override_the_manifest(tmp_path):
    spec = load_package(
        make_package(tmp_path / "pkg", 'compare = ["python3", "a.py"]\ncompare_timeout_s = 10\n')
    ).spec

    changed = spec.with_overrides(compare_command=["python3", "b.py"], compare_timeout_s=30)
    assert changed.compare_command == ["python3", "b.py"] and changed.compare_timeout_s == 30
    kept = spec.with_overrides(compare_command=None, compare_timeout_s=None)
    assert kept.compare_command == ["python3", "a.py"] and kept.compare_timeout_s == 10

    # A lower task timeout than the comparison's is caught whichever side the flag changed.
    with pytest.raises(PackageError, match=r"compare_timeout_s \(10\) must not be above .*\(5\)"):
        spec.with_overrides(timeout_s=5)
    with pytest.raises(PackageError, match="compare_timeout_s must be at least 1, not 0"):
        spec.with_overrides(compare_timeout_s=0)
    assert spec.compare_timeout_s == 10  # the original is untouched by failed overrides
