"""What the desktop app's look for missing system libraries costs at start (Linux, X11).

Runs fresh processes that import QtWidgets and create the QApplication on the xcb platform,
half of them after `desktop_libraries_problem()` (what `hivemind-app` does) and half without,
alternating, on DISPLAY or on an Xvfb of its own. Prints one JSON line: check_ms (the check
itself, median), start_ms_with / start_ms_without (import to QApplication, median) and
added_ms (their difference). Target: added_ms < 10.

    python bench/platform_check.py [--runs 20]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
PROBE = """
import sys, time
started = time.perf_counter()
from PySide6.QtWidgets import QApplication
from app.ui.system_libraries import desktop_libraries_problem
check_ms = 0.0
if sys.argv[1] == "with":
    before = time.perf_counter()
    assert desktop_libraries_problem() is None
    check_ms = (time.perf_counter() - before) * 1000
app = QApplication(sys.argv[:1])
print(check_ms, (time.perf_counter() - started) * 1000)
"""


def start_xvfb(scratch: Path) -> tuple[subprocess.Popen[bytes] | None, str]:
    if os.environ.get("DISPLAY"):
        return None, os.environ["DISPLAY"]
    if shutil.which("Xvfb") is None:
        raise SystemExit("error: no DISPLAY and no Xvfb (apt-get install xvfb)")
    display_file = scratch / "display"
    with display_file.open("w") as out:
        xvfb = subprocess.Popen(
            ["Xvfb", "-displayfd", str(out.fileno()), "-noreset", "-nolisten", "tcp"],
            pass_fds=(out.fileno(),),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    for _ in range(100):
        if display_file.read_text().strip():
            return xvfb, ":" + display_file.read_text().strip()
        time.sleep(0.1)
    xvfb.kill()
    raise SystemExit("error: Xvfb did not start")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="processes per variant")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        xvfb, display = start_xvfb(Path(scratch))
        env = dict(os.environ, DISPLAY=display, QT_QPA_PLATFORM="xcb")
        times: dict[str, list[tuple[float, float]]] = {"with": [], "without": []}
        try:
            for _ in range(args.runs):
                for variant in times:
                    done = subprocess.run(
                        [sys.executable, "-c", PROBE, variant],
                        cwd=REPO_ROOT,
                        env=env,
                        capture_output=True,
                        text=True,
                        check=True,
                    )
                    check_ms, start_ms = map(float, done.stdout.split())
                    times[variant].append((check_ms, start_ms))
        finally:
            if xvfb:
                xvfb.kill()
                xvfb.wait()
    with_ms = statistics.median(t for _, t in times["with"])
    without_ms = statistics.median(t for _, t in times["without"])
    print(
        json.dumps(
            {
                "runs": args.runs,
                "check_ms": round(statistics.median(c for c, _ in times["with"]), 1),
                "start_ms_with": round(with_ms, 1),
                "start_ms_without": round(without_ms, 1),
                "added_ms": round(with_ms - without_ms, 1),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
