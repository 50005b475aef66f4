"""Smoke test of an installed (or unpacked) frozen HiveMind, the same on every OS:

    python packaging/smoke_test.py --bin-dir /usr/bin
    python packaging/smoke_test.py --bin-dir "C:/Users/me/AppData/Local/Programs/HiveMind"

Run it with the project's Python (the one with the server's dependencies): it starts a real
server from this source tree on 127.0.0.1, then drives only the FROZEN executables in
--bin-dir: `hivemind --version`, `hivemind-app --smoke-test` offscreen, `hivemind app
--smoke-test`, then users registered with the frozen CLI, a one-task job submitted, a frozen
headless worker (process executor) that runs it, and the result file and the payout checked
the way a user would see them. Prints one line per step; exits 0 when all pass.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "smoke-test-password-1"
TASK_SCRIPT = """\
import os
task = int(os.environ["HIVEMIND_TASK_INDEX"])
with open(os.path.join(os.environ["HIVEMIND_OUTPUT"], "result.txt"), "w") as out:
    out.write(f"smoke ok: task {task} sum {sum(range(1000))}\\n")
"""
EXPECTED_RESULT = "smoke ok: task 0 sum 499500\n"
JOB_TOML = """\
[job]
name = "smoke"
runtime = "python-3.11"
command = ["python3", "main.py"]
tasks = 1

[resources]
cores = 1
memory_mb = 128
timeout_s = 60
"""


class SmokeFailure(Exception):
    pass


class Smoke:
    def __init__(self, bin_dir: Path, work: Path, app_timeout: float) -> None:
        suffix = ".exe" if sys.platform == "win32" else ""
        self.cli = bin_dir / f"hivemind{suffix}"
        self.app = bin_dir / f"hivemind-app{suffix}"
        self.work = work
        self.app_timeout = app_timeout
        self.env = dict(os.environ)
        # Widgets without a display; credentials in a 0600 file per home (no desktop keyring).
        self.env.update(QT_QPA_PLATFORM="offscreen", HIVEMIND_KEYRING="file")
        self.env.pop("HIVEMIND_HOME", None)
        self.server: subprocess.Popen[str] | None = None
        self.address = ""
        self.job_id = ""
        self.start_balance = 0
        self.server_log: list[str] = []  # its last lines, shown when a step fails

    # -- helpers ------------------------------------------------------------------------

    def run(
        self, argv: list[str], timeout: float = 60, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        try:
            done = subprocess.run(
                argv,
                input=stdin,
                capture_output=True,
                text=True,
                timeout=timeout,
                env=self.env,
            )
        except subprocess.TimeoutExpired as exc:
            raise SmokeFailure(f"{_show(argv)} did not finish within {timeout:.0f} s") from exc
        if done.returncode != 0:
            raise SmokeFailure(
                f"{_show(argv)} exited {done.returncode}\n"
                f"stdout: {done.stdout.strip()[-2000:]}\nstderr: {done.stderr.strip()[-2000:]}"
            )
        return done

    def hivemind_json(self, home: str, *args: str, stdin: str | None = None) -> dict:
        argv = [str(self.cli), *args, "--server", self.address, "--home", str(self.work / home)]
        done = self.run([*argv, "--json"], stdin=stdin)
        try:
            return json.loads(done.stdout)
        except ValueError as exc:
            raise SmokeFailure(f"{_show(argv)} --json printed no JSON: {done.stdout!r}") from exc

    # -- steps ---------------------------------------------------------------------------

    def check_executables(self) -> str:
        for exe in (self.cli, self.app):
            if not exe.exists():
                raise SmokeFailure(f"{exe} does not exist")
        return f"{self.cli.parent}"

    def check_version(self) -> str:
        expected = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
        out = self.run([str(self.cli), "--version"]).stdout.strip()
        if out != f"hivemind {expected}":
            raise SmokeFailure(
                f"hivemind --version printed {out!r}, expected 'hivemind {expected}'"
            )
        return out

    def check_app_smoke(self) -> str:
        home = self.work / "app-home"
        started = time.monotonic()
        self._app([str(self.app), "--smoke-test"], home)
        took = time.monotonic() - started
        self._app([str(self.cli), "app", "--smoke-test"], home)
        return f"hivemind-app --smoke-test and hivemind app --smoke-test exit 0 ({took:.1f} s)"

    def _app(self, argv: list[str], home: Path) -> None:
        env_home = self.env.get("HIVEMIND_HOME")
        self.env["HIVEMIND_HOME"] = str(home)
        try:
            self.run(argv, timeout=self.app_timeout)
        finally:
            if env_home is None:
                self.env.pop("HIVEMIND_HOME", None)

    def start_server(self) -> str:
        data = self.work / "server-data"
        # The server runs from the source tree: only the desktop side is frozen.
        self.server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "server",
                "run",
                "--data-dir",
                str(data),
                "--listen",
                "127.0.0.1:0",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        deadline = time.monotonic() + 30
        seen = []
        while time.monotonic() < deadline:
            line = self.server.stdout.readline()
            if not line:
                break
            seen.append(line)
            found = re.search(r"listening on (\S+)", line)
            if found:
                self.address = found.group(1)
                # Keep reading its log: a full pipe would block the server mid-test.
                threading.Thread(target=self._drain_server_log, daemon=True).start()
                return self.address
        raise SmokeFailure("the test server did not start:\n" + "".join(seen[-20:]))

    def _drain_server_log(self) -> None:
        assert self.server is not None and self.server.stdout is not None
        for line in self.server.stdout:
            self.server_log.append(line)
            del self.server_log[:-200]

    def register_users(self) -> str:
        for name in ("submitter", "contributor"):
            user = self.hivemind_json(
                name,
                "account",
                "register",
                "--username",
                name,
                "--password-stdin",
                stdin=PASSWORD + "\n",
            )
            if user.get("username") != name:
                raise SmokeFailure(f"register {name} answered {user}")
        self.start_balance = self.balance("contributor")
        return "submitter and contributor registered with the frozen CLI"

    def balance(self, home: str) -> int:
        return int(self.hivemind_json(home, "account", "balance")["balance_ucpt"])

    def submit_job(self) -> str:
        package = self.work / "smoke-job"
        package.mkdir()
        (package / "hivemind.toml").write_text(JOB_TOML)
        (package / "main.py").write_text(TASK_SCRIPT)
        job = self.hivemind_json(
            "submitter", "job", "submit", str(package), "--tasks", "1", "--max-cost", "5"
        )
        self.job_id = str(job.get("job_id") or job.get("id") or "")
        if not self.job_id:
            raise SmokeFailure(f"job submit printed no job id: {job}")
        return f"job {self.job_id} submitted (1 task)"

    def run_worker(self) -> str:
        argv = [
            str(self.cli),
            "worker",
            "run",
            "--executor",
            "process",
            "--exit-when-idle",
            "5",
            "--server",
            self.address,
            "--home",
            str(self.work / "contributor"),
        ]
        started = time.monotonic()
        self.run(argv, timeout=180)
        status = self.hivemind_json("submitter", "job", "status", self.job_id)
        state = str(status.get("state") or status.get("job", {}).get("state", "")).lower()
        if "done" not in state:
            raise SmokeFailure(f"after the worker exited, job status is {status}")
        return f"frozen worker ran the task and exited ({time.monotonic() - started:.1f} s)"

    def check_result(self) -> str:
        out = self.work / "results"
        self.hivemind_json("submitter", "job", "results", self.job_id, "--out", str(out))
        result = out / "0" / "result.txt"
        if not result.is_file():
            found = sorted(str(p.relative_to(out)) for p in out.rglob("*"))
            raise SmokeFailure(f"no {result} after `job results`; got {found}")
        text = result.read_text()
        if text != EXPECTED_RESULT:
            raise SmokeFailure(f"result.txt is {text!r}, expected {EXPECTED_RESULT!r}")
        paid = self.balance("contributor") - self.start_balance
        if paid <= 0:
            raise SmokeFailure(f"the contributor was not paid (balance change {paid} ucpt)")
        return f"result.txt is right; contributor paid {paid} ucpt"

    def stop_server(self) -> None:
        if self.server and self.server.poll() is None:
            self.server.terminate()
            try:
                self.server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.server.kill()
                self.server.wait()


def _show(argv: list[str]) -> str:
    return " ".join(Path(a).name if i == 0 else a for i, a in enumerate(argv))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Smoke-test a frozen HiveMind install.")
    parser.add_argument(
        "--bin-dir",
        type=Path,
        required=True,
        help="folder holding the frozen hivemind and hivemind-app",
    )
    parser.add_argument(
        "--skip-network",
        action="store_true",
        help="only the executables, --version and the app smoke test (no server, no worker)",
    )
    parser.add_argument(
        "--app-timeout",
        type=float,
        default=60.0,
        help="seconds the app smoke test may take (it exits within 10 s)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="hivemind-smoke-"))
    smoke = Smoke(
        args.bin_dir.resolve() if args.bin_dir.exists() else args.bin_dir, work, args.app_timeout
    )
    steps = [smoke.check_executables, smoke.check_version, smoke.check_app_smoke]
    if not args.skip_network:
        steps += [
            smoke.start_server,
            smoke.register_users,
            smoke.submit_job,
            smoke.run_worker,
            smoke.check_result,
        ]
    try:
        for step in steps:
            name = step.__name__.replace("_", " ")
            print(f"smoke: {name}: {step()}", flush=True)
    except SmokeFailure as failure:
        print(f"smoke: FAILED at {name}: {failure}", file=sys.stderr, flush=True)
        if smoke.server_log:
            print("smoke: the test server's last log lines:", file=sys.stderr)
            print("".join(smoke.server_log[-40:]), file=sys.stderr, flush=True)
        return 1
    finally:
        smoke.stop_server()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print("smoke: all steps passed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
