"""A GPU job's page on the dashboard says why it waits while no online node lends a free GPU,
in English and Chinese (real HTTP from a real server)."""

from __future__ import annotations

from proto.hivemind.v1 import common_pb2
from tests.kit.simulated_nodes import submit_job
from tests.web.webkit import WebClient

GPU_JOB = common_pb2.Resources(cores=1, memory_mb=64, timeout_s=60, gpus=1)


async def test_a_gpu_jobs_page_says_why_it_waits(server, stubs, user_session):
    alice = await user_session(server, "alice")
    job = await submit_job(stubs, alice, task_count=1, resources=GPU_JOB)
    cpu_job = await submit_job(stubs, alice, task_count=1)
    async with WebClient(server.http_url) as web:
        await web.sign_in("alice")
        page = await web.get(f"/jobs/{job.job_id}")
        assert page.status == 200
        assert "waiting: no node with a free GPU is online" in page.text
        assert 'id="job-waiting"' not in (await web.get(f"/jobs/{cpu_job.job_id}")).text
        await web.post("/language", {"language": "zh-TW", "next": "/jobs"})
        chinese = await web.get(f"/jobs/{job.job_id}")
        assert "等待中：沒有空閒 GPU 的節點在線上" in chinese.text
