"""The desktop app submits through the one submit path: what its form does not show (gpus,
disk, attempts, the compare command) still comes from the package's hivemind.toml, and what
the form sets goes on top. A real server, a real session, the Submit tab's own request."""

from __future__ import annotations

from pathlib import Path

from app.services.client.credentials import CredentialStore
from app.services.client.session import ClientSession
from app.services.settings import SettingsStore
from app.ui import job_actions, models
from proto.hivemind.v1 import job_pb2

MANIFEST = """\
[job]
name = "render"
runtime = "python-3.11"
command = ["python3", "main.py"]
tasks = 4
replicas = 2
max_attempts = 2
compare = ["python3", "compare.py"]
compare_timeout_s = 20

[resources]
cores = 1
memory_mb = 128
timeout_s = 60
disk_mb = 2048
gpus = 1
"""


async def test_the_app_submits_every_setting_of_hivemind_toml(server, tmp_path: Path) -> None:
    package = tmp_path / "render"
    package.mkdir()
    (package / "hivemind.toml").write_text(MANIFEST)
    (package / "main.py").write_text("print('frame')\n")
    (package / "compare.py").write_text("raise SystemExit(0)\n")
    home = tmp_path / "home"
    settings = SettingsStore(home)
    settings.update(server=server.address)
    scratch = tmp_path / "scratch"
    # What the Submit tab sends after loading the package and changing two fields.
    request = models.JobRequest(
        package_path=str(package),
        name="render-frames",
        runtime="python-3.11",
        command=("python3", "main.py"),
        task_count=3,
        cores=1,
        memory_mb=256,
        timeout_s=60,
        replicas=2,
    )
    uploaded: list[tuple[int, int]] = []
    async with ClientSession(settings, CredentialStore(home, backend="file")) as session:
        await session.register("ivy", "correct horse battery")
        row = await job_actions.submit_job(
            session, request, scratch, lambda done, total: uploaded.append((done, total))
        )
        job = (await session.jobs.GetJob(job_pb2.GetJobRequest(job_id=row.job_id))).job

    assert (job.resources.gpus, job.resources.disk_mb, job.max_attempts) == (1, 2048, 2)
    assert list(job.compare_command) == ["python3", "compare.py"]
    assert job.compare_timeout_s == 20
    # The form's fields win over the file's.
    assert (job.name, job.tasks_total, job.resources.memory_mb) == ("render-frames", 3, 256)
    assert row.job_id == job.job_id and row.tasks_total == 3
    done, total = uploaded[-1]
    assert done == total > 0
    assert list(scratch.iterdir()) == []  # the zip of the folder is gone once uploaded
