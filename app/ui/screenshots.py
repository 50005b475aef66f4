"""`make screenshots`: every tab, in English and 繁體中文, at the window's default and minimum
size, and the first-run setup, as PNGs in docs/screenshots/.

Nothing is staged: a real server runs in a subprocess, real users are made with the real
CLI, the app's own worker runs real tasks in the Docker sandbox (the default executor, so
the charts' HiveMind line counts the containers) and gets paid, a second user's jobs and the
app user's own job (submitted from the Submit tab) move through the network. The widgets are
the app's, rendered offscreen. Needs dockerd and the runtime image (`make runtime-image`).

    python -m app.ui.screenshots --out docs/screenshots
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "screenshots only"
TAB_NAMES = ("overview", "resources", "earnings", "submit", "account")
# A task that keeps a core busy long enough to be seen running.
BUSY_TASK = textwrap.dedent(
    """
    import json, os, time
    end = time.time() + float(os.environ.get("HIVEMIND_TASK_INDEX", "0")) + 40
    n = 0
    while time.time() < end:
        n += sum(i * i for i in range(20000))
    with open(os.path.join(os.environ["HIVEMIND_OUTPUT"], "frame.json"), "w") as out:
        json.dump({"work": n}, out)
    """
)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env(home: Path | None = None) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), HIVEMIND_KEYRING="file")
    if home is not None:
        env["HIVEMIND_HOME"] = str(home)
    return env


def _cli(home: Path, *args: str, stdin: str = "") -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "app.cli.main", *args, "--json"],
        input=stdin,
        capture_output=True,
        text=True,
        env=_env(home),
        cwd=REPO_ROOT,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"hivemind {' '.join(args)}: {done.stderr.strip()}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _start_server(workdir: Path) -> tuple[subprocess.Popen, str]:
    address = f"127.0.0.1:{_free_port()}"
    log_path = workdir / "server.log"
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "server",
                "run",
                "--data-dir",
                str(workdir / "server"),
                "--listen",
                address,
            ],
            cwd=REPO_ROOT,
            env=_env(),
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 30
    while f"listening on {address}" not in log_path.read_text(errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("the server did not start:\n" + log_path.read_text()[-2000:])
        time.sleep(0.1)
    return process, address


def _busy_package(workdir: Path) -> Path:
    package = workdir / "render-frames"
    package.mkdir()
    (package / "main.py").write_text(BUSY_TASK)
    (package / "hivemind.toml").write_text(
        '[job]\nname = "render-frames"\nruntime = "python-3.11"\n'
        'command = ["python3", "main.py"]\ntasks = 2\n\n'
        "[resources]\ncores = 1\nmemory_mb = 512\ntimeout_s = 300\n"
    )
    return package


def _pi_package(workdir: Path) -> Path:
    """examples/pi without its aggregate: with one contributor's machine in the pictures, an
    aggregate (run on nodes of two owners) would never be verified."""
    package = workdir / "pi"
    package.mkdir()
    for source in (REPO_ROOT / "examples" / "pi").iterdir():
        if source.is_file():
            (package / source.name).write_bytes(source.read_bytes())
    manifest = package / "hivemind.toml"
    lines = manifest.read_text().splitlines(keepends=True)
    manifest.write_text("".join(line for line in lines if not line.startswith(("rounds", "agg"))))
    return package


async def _until(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"screenshots: gave up waiting for {what}")
        await asyncio.sleep(0.2)


async def _shoot(out: Path, workdir: Path, address: str) -> list[Path]:
    from PySide6.QtWidgets import QApplication

    from app.ui import models
    from app.ui.application import HiveMindApp
    from app.ui.autostart import XdgAutostart
    from app.ui.window import DEFAULT_SIZE, MINIMUM_SIZE

    home, bob_home = workdir / "alice", workdir / "bob"
    _cli(
        home,
        "account",
        "register",
        "--username",
        "alice",
        "--password-stdin",
        "--server",
        address,
        stdin=PASSWORD + "\n",
    )
    _cli(
        bob_home,
        "account",
        "register",
        "--username",
        "bob",
        "--password-stdin",
        "--server",
        address,
        stdin=PASSWORD + "\n",
    )
    (home / "settings.json").write_text(
        json.dumps(
            {
                "server": address,
                "language": "en",
                "contributor": {
                    "sharing": True,
                    "executor": "docker",
                    "cores": 2,
                    "memory_mb": 4096,
                    "upload_kbps": 2048,
                    "pause_on_battery": True,
                },
            }
        )
    )
    os.environ["HIVEMIND_HOME"] = str(home)

    qt_app = QApplication.instance()
    hivemind = HiveMindApp(
        qt_app,
        home,
        autostart=XdgAutostart(workdir / "xdg"),
        single_instance=False,
        exit_qt_on_quit=False,
    )
    bridge, window = hivemind.bridge, hivemind.window
    bridge._usage_timer.setInterval(400)  # fill the live charts sooner than a person would
    window.resize(*DEFAULT_SIZE)
    window.banner.hide()  # offscreen has no tray; a desktop has one (see no-tray.png)
    hivemind.start()
    await _until(lambda: bridge.sharing_state.state == models.SHARING, 30, "sharing")

    # Bob's jobs run on Alice's machine and pay her.
    pi = _pi_package(workdir)
    _cli(bob_home, "job", "submit", str(pi), "--tasks", "6", "--server", address)
    await _until(lambda: len(window.earnings.snapshot.payouts) >= 6, 120, "payouts")
    # Alice submits from the Submit tab; her own machine runs it.
    submit = window.submit
    submit.load_package(pi)
    submit.task_count.setValue(4)
    submit.submit_button.click()
    await _until(lambda: any(j.state == "done" for j in submit.jobs.rows), 120, "alice's job")
    # Something long-running for the overview: two tasks busy for ~40 s.
    _cli(bob_home, "job", "submit", str(_busy_package(workdir)), "--server", address)
    await _until(lambda: len(bridge.sharing.running_tasks()) == 2, 60, "running tasks")
    await asyncio.sleep(12)  # the charts show a stretch of HiveMind's share
    bridge.refresh_earnings()
    bridge.refresh_jobs()
    await asyncio.sleep(1.5)
    submit.jobs.table.selectRow(0)
    submit.load_package(pi)

    written = []
    for language in ("en", "zh_TW"):
        bridge.set_language(language)  # as choosing it on the Account tab does
        await asyncio.sleep(0.3)
        for size, suffix in ((MINIMUM_SIZE, "-small"), (DEFAULT_SIZE, "")):
            window.resize(*size)
            for index, name in enumerate(TAB_NAMES):
                window.tabs.setCurrentIndex(index)
                await asyncio.sleep(0.3)
                path = out / f"{language}-{index + 1}-{name}{suffix}.png"
                window.grab().save(str(path))
                written.append(path)
        window.banner.show()
        window.tabs.setCurrentIndex(0)
        await asyncio.sleep(0.3)
        path = out / f"{language}-no-tray.png"
        window.grab().save(str(path))
        written.append(path)
        window.banner.hide()
    await hivemind.stop()
    hivemind.dispose()
    written += await _shoot_setup(out, workdir, address)
    return written


async def _shoot_setup(out: Path, workdir: Path, address: str) -> list[Path]:
    """The first run's network page, as a newcomer with an invitation sees it."""
    from PySide6.QtWidgets import QApplication

    from app.ui.application import HiveMindApp
    from app.ui.autostart import XdgAutostart

    written = []
    for language in ("en", "zh_TW"):
        home = workdir / f"newcomer-{language}"
        home.mkdir()
        (home / "network.json").write_text(
            json.dumps({"name": "Open Science Grid", "server": address})
        )
        os.environ["HIVEMIND_HOME"] = str(home)
        hivemind = HiveMindApp(
            QApplication.instance(),
            home,
            autostart=XdgAutostart(workdir / f"xdg-{language}"),
            single_instance=False,
            exit_qt_on_quit=False,
        )
        hivemind.languages.apply(language)
        hivemind.start()
        wizard = hivemind.wizard
        await asyncio.sleep(0.3)
        for page, name in ((0, "welcome"), (1, "network")):
            if page:
                wizard.next()
            await asyncio.sleep(0.3)
            path = out / f"{language}-setup-{name}.png"
            wizard.grab().save(str(path))
            written.append(path)
        await hivemind.stop()
        hivemind.dispose()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.ui.screenshots")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "docs" / "screenshots")
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import qasync
    from PySide6.QtWidgets import QApplication

    from app.ui.qt_compat import guard_signal_emit_refcount

    guard_signal_emit_refcount()
    args.out.mkdir(parents=True, exist_ok=True)
    qt_app = QApplication(sys.argv[:1])
    loop = qasync.QEventLoop(qt_app)
    asyncio.set_event_loop(loop)
    with tempfile.TemporaryDirectory(prefix="hivemind-screens-") as scratch:
        workdir = Path(scratch)
        server, address = _start_server(workdir)
        try:
            with loop:
                written = loop.run_until_complete(_shoot(args.out, workdir, address))
        finally:
            server.terminate()
            server.wait(15)
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
