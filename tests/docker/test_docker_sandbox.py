"""Tasks that try to break out of the sandbox, against the real dockerd: each attempt must
fail inside the container, with a result that says what happened."""

from __future__ import annotations

import asyncio
import json
import socket
import threading

import pytest

pytestmark = pytest.mark.docker


async def test_memory_hog_is_killed_with_out_of_memory_error(
    executor, make_spec, instance_containers
):
    spec = make_spec(
        """
        chunks = []
        for i in range(400):
            chunks.append(b"x" * (1 << 20))  # touched pages, so they really count
            if i % 16 == 0:
                print("allocated", i + 1, "MB", flush=True)
        print("survived with 400 MB")
        """,
        memory_mb=32,
    )
    result = await executor.run(spec, asyncio.Event())
    assert result.error == "killed: out of memory (limit 32 MB)"
    assert result.exit_code == 137
    assert "survived" not in result.log
    assert "allocated 1 MB" in result.log
    assert instance_containers() == []


async def test_out_of_memory_in_a_child_process_is_reported_too(executor, make_spec):
    spec = make_spec(
        """
        import subprocess, sys
        hog = "chunks = [b'x' * (1 << 20) for _ in range(400)]"
        code = subprocess.run([sys.executable, "-c", hog]).returncode
        print("child ended with", code)
        sys.exit(1)
        """,
        memory_mb=32,
    )
    result = await executor.run(spec, asyncio.Event())
    assert result.exit_code == 1
    assert "child ended with -9" in result.log
    assert result.error == "killed: out of memory (limit 32 MB)"


async def test_no_network_inside_not_even_the_hosts_loopback(executor, make_spec):
    accepted: list[object] = []
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.settimeout(0.2)
    stop = threading.Event()

    def accept_loop() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            accepted.append(conn)
            conn.close()

    thread = threading.Thread(target=accept_loop, daemon=True)
    thread.start()
    try:
        spec = make_spec(
            f"""
            import json, os, socket
            report = {{"interfaces": sorted(os.listdir("/sys/class/net"))}}
            try:
                socket.create_connection(("127.0.0.1", {port}), timeout=3).close()
                report["connect"] = "connected"
            except OSError as exc:
                report["connect"] = "failed: " + type(exc).__name__
            print(json.dumps(report))
            """
        )
        result = await executor.run(spec, asyncio.Event())
    finally:
        stop.set()
        thread.join()
        listener.close()
    assert result.ok, result.error
    report = json.loads(result.log.strip().splitlines()[-1])
    assert report["interfaces"] == ["lo"]
    assert report["connect"].startswith("failed")
    assert accepted == []


async def test_fork_bomb_is_contained_and_the_worker_stays_healthy(
    executor, make_spec, instance_containers
):
    bomb = make_spec(
        """
        import os, time
        refused_reported = False
        while True:
            try:
                os.fork()
            except OSError:
                if not refused_reported:
                    print("fork refused", flush=True)
                    refused_reported = True
                time.sleep(0.01)
        """,
        timeout_s=3,
    )
    result = await executor.run(bomb, asyncio.Event())
    assert result.timed_out
    assert result.error == "timed out after 3 s"
    assert "fork refused" in result.log  # the pids limit said no, long before the host did
    assert instance_containers() == []

    after = await executor.run(make_spec("print('still fine')"), asyncio.Event())
    assert after.ok, after.error
    assert "still fine" in after.log


async def test_writes_outside_output_are_denied_and_task_is_not_root(executor, make_spec):
    spec = make_spec(
        """
        import json, os
        report = {"uid": os.getuid(), "gid": os.getgid()}
        for path in ["/escape.txt", "/task/escape.txt", "/input/escape.txt",
                     "/usr/escape.txt", "/etc/passwd", "/output/ok.txt", "/tmp/ok.txt"]:
            try:
                with open(path, "a") as handle:
                    handle.write("x")
                report[path] = "written"
            except OSError as exc:
                report[path] = "denied: " + (exc.strerror or "")
        status = open("/proc/self/status").read().splitlines()
        fields = dict(line.split(":", 1) for line in status if ":" in line)
        report["CapEff"] = fields["CapEff"].strip()
        report["NoNewPrivs"] = fields["NoNewPrivs"].strip()
        print(json.dumps(report))
        """,
        input_text="some words",
    )
    result = await executor.run(spec, asyncio.Event())
    assert result.ok, result.error
    report = json.loads(result.log.strip().splitlines()[-1])
    assert report["uid"] != 0 and report["gid"] != 0
    for path in ["/escape.txt", "/task/escape.txt", "/input/escape.txt", "/usr/escape.txt"]:
        assert report[path].startswith("denied"), (path, report[path])
    assert report["/etc/passwd"].startswith("denied")
    assert report["/output/ok.txt"] == "written"
    assert report["/tmp/ok.txt"] == "written"
    assert report["CapEff"] == "0000000000000000"
    assert report["NoNewPrivs"] == "1"
    assert not (spec.package_dir / "escape.txt").exists()
    assert (spec.output_dir / "ok.txt").read_text() == "x"


async def test_disk_hog_is_killed_at_the_disk_cap(executor, make_spec, instance_containers):
    spec = make_spec(
        """
        import os, time
        with open("/output/big.bin", "wb") as handle:
            for i in range(200):
                handle.write(os.urandom(1 << 20))
                handle.flush()
                time.sleep(0.02)
        print("wrote 200 MB")
        """,
        disk_mb=8,
    )
    result = await executor.run(spec, asyncio.Event())
    assert result.error == "killed: disk limit exceeded (8 MB)"
    assert "wrote 200 MB" not in result.log
    assert instance_containers() == []


async def test_tmp_holds_no_more_files_than_the_work_dir_may(executor, make_spec):
    spec = make_spec(
        """
        import os
        for i in range(5000):
            try:
                open(f"/tmp/f{i}", "w").close()
            except OSError as error:
                print(f"/tmp full after {i} files: {error.strerror}")
                break
        """,
        max_files=500,
    )
    result = await executor.run(spec, asyncio.Event())
    assert result.ok, result.error
    full = [line for line in result.log.splitlines() if line.startswith("/tmp full after")]
    assert full and int(full[0].split()[3]) <= 500
    assert "No space left on device" in full[0]


async def test_cpu_slider_caps_the_task(executor, make_spec):
    spec = make_spec(
        """
        import time
        end = time.monotonic() + 1.5
        while time.monotonic() < end:
            pass
        """,
        cores=1,
        cpu_percent=40,
    )
    result = await executor.run(spec, asyncio.Event())
    assert result.ok, result.error
    # A busy loop would take the whole core; the quota holds it near 40 % of the wall time
    # (less when other programs compete for the CPU, never more).
    assert 0 < result.cpu_seconds < 0.5 * result.wall_seconds + 0.1
    assert result.peak_memory_mb > 0
