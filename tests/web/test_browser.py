"""The dashboard in a real browser (Debian's Chromium, headless, through Selenium) against a
real server whose nodes are simulated over real gRPC: what a person does, and what another
site must not be able to do. One browser and one server for the whole module.

Under CI=true a missing browser fails these tests instead of skipping them (.ci/run installs
chromium and chromium-driver)."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest

from proto.hivemind.v1 import common_pb2, job_pb2
from tests.kit.accounts import PASSWORD, UserSession, register_user
from tests.kit.browser import browser_problem, start_chromium
from tests.kit.ci import unavailable
from tests.kit.servers import ServerThread
from tests.kit.simulated_nodes import SimNode, sim_node, submit_job, work
from tests.kit.stubs import Stubs, lease, make_zip

pytestmark = pytest.mark.slow

WAIT_S = 20.0


def zipped(index: int) -> bytes:
    return make_zip({"answer.txt": f"square of {index} is {index * index}\n".encode()})


@dataclass
class World:
    """The server on its own loop (a thread), its users, a contributor's node, and a way to
    run a gRPC step there from this synchronous test."""

    thread: ServerThread
    channel: grpc.aio.Channel
    stubs: Stubs
    base: str
    people: dict[str, UserSession] = field(default_factory=dict)
    node: SimNode | None = None

    def run(self, coro: Any) -> Any:
        return self.thread.run(coro)

    def job(self, owner: str, **fields: Any) -> job_pb2.Job:
        return self.run(submit_job(self.stubs, self.people[owner], **fields))

    def finish(self, job_id: str, owner: str) -> None:
        """The node works (on whichever jobs are waiting) until this job is done."""
        for _ in range(20):
            if self.state(owner, job_id) == common_pb2.JOB_STATE_DONE:
                return
            self.run(work(self.stubs, self.node, max_tasks=4))
        raise AssertionError(f"job {job_id} did not finish")

    def state(self, owner: str, job_id: str) -> int:
        async def read() -> int:
            request = job_pb2.GetJobRequest(job_id=job_id)
            detail = await self.stubs.jobs.GetJob(request, metadata=self.people[owner].metadata)
            return detail.job.state

        return self.run(read())


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    data_dir = tmp_path_factory.mktemp("browser-server")
    thread = ServerThread(data_dir, http_listen="127.0.0.1:0", bittorrent=False)
    server = thread.start()

    async def setup() -> World:
        channel = grpc.aio.insecure_channel(server.address)
        world = World(thread, channel, Stubs(channel, server.address), server.http_url)
        for name, admin in (("alice", True), ("bob", False)):
            world.people[name] = await register_user(
                server.address, name, admin=admin, data_dir=data_dir
            )
        world.node = await sim_node(world.stubs, world.people["bob"], "bob-box", output=zipped)
        return world

    world = thread.run(setup())
    yield world
    thread.run(world.channel.close())
    thread.stop()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    problem = browser_problem()
    if problem:
        unavailable("Browser", problem)
    root = tmp_path_factory.mktemp("chromium")
    driver = start_chromium(root / "profile", downloads=root / "downloads")
    driver.downloads = root / "downloads"
    yield driver
    driver.quit()


def wait_for(driver: Any, condition: Callable[[Any], Any], what: str) -> Any:
    """`condition(driver)` once it is true; an element read while the page is being
    replaced (stale, or not there yet) counts as not yet."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    waiting = WebDriverWait(
        driver,
        WAIT_S,
        poll_frequency=0.2,
        ignored_exceptions=(NoSuchElementException, StaleElementReferenceException),
    )
    return waiting.until(condition, message=what)


def by_id(driver: Any, element_id: str) -> Any:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.ID, element_id)


def sign_in(driver: Any, world: World, name: str) -> None:
    driver.delete_all_cookies()
    driver.get(f"{world.base}/signin")
    by_id(driver, "username").send_keys(name)
    by_id(driver, "password").send_keys(PASSWORD)
    by_id(driver, "sign-in").click()
    wait_for(driver, lambda d: "/signin" not in d.current_url, "signed in")


def heading(driver: Any) -> str:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.TAG_NAME, "h1").text


def test_signed_out_pages_lead_to_sign_in_and_back(browser, world):
    browser.delete_all_cookies()
    browser.get(f"{world.base}/nodes")
    assert browser.current_url == f"{world.base}/signin?next=/nodes"
    by_id(browser, "username").send_keys("alice")
    by_id(browser, "password").send_keys("not the password")
    by_id(browser, "sign-in").click()
    # The answer is a new page, after the password is checked (slow by design): wait for it.
    wait_for(
        browser,
        lambda d: "wrong username or password" in by_id(d, "signin-error").text,
        "the sign-in error",
    )
    by_id(browser, "password").send_keys(PASSWORD)
    by_id(browser, "sign-in").click()
    wait_for(browser, lambda d: d.current_url == f"{world.base}/nodes", "back on /nodes")
    assert heading(browser) == "My nodes"


def test_a_jobs_progress_changes_on_its_page_without_a_reload(browser, world):
    job = world.job("alice", name="live squares", task_count=4)
    sign_in(browser, world, "alice")
    browser.get(f"{world.base}/jobs/{job.job_id}")
    assert by_id(browser, "job-progress").text == "0 of 4 tasks done"
    browser.execute_script("window.stillTheSamePage = true")
    assert world.run(work(world.stubs, world.node, max_tasks=3)) == 3
    wait_for(
        browser,
        lambda d: by_id(d, "job-progress").text == "3 of 4 tasks done",
        "the page shows the 3 finished tasks",
    )
    assert browser.execute_script("return window.stillTheSamePage") is True  # not reloaded


def test_a_result_downloads(browser, world):
    job = world.job("alice", name="one square", task_count=1)
    world.finish(job.job_id, "alice")
    sign_in(browser, world, "alice")
    browser.get(f"{world.base}/jobs/{job.job_id}")
    from selenium.webdriver.common.by import By

    # The tasks table is the page's live part: a click may meet a row being replaced.
    wait_for(browser, lambda d: d.find_element(By.CSS_SELECTOR, "a.download").click() or 1, "click")
    saved = browser.downloads / f"{job.job_id}-task-0-result.zip"
    wait_for(browser, lambda d: saved.exists() and saved.stat().st_size > 0, "the result saved")
    time.sleep(0.2)  # the browser renames its partial file when done; then it is complete
    assert saved.read_bytes() == zipped(0)


def test_a_job_named_like_a_script_shows_as_its_name(browser, world):
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By

    name = "<script>alert(1)</script>"
    job = world.job("alice", name=name, task_count=1)
    sign_in(browser, world, "alice")
    for page in ("/jobs", f"/jobs/{job.job_id}"):
        browser.get(world.base + page)
        shown = [e.text for e in browser.find_elements(By.CSS_SELECTOR, ".job-name, #job-name")]
        assert name in shown
        with pytest.raises(NoAlertPresentException):
            browser.switch_to.alert.text  # noqa: B018 - reading it is the check


def test_another_users_job_is_not_found(browser, world):
    job = world.job("bob", name="bob's private job", task_count=1)
    world.people["carol"] = world.run(register_user(world.thread.server.address, "carol"))
    sign_in(browser, world, "carol")  # not alice: an admin sees every job
    browser.get(f"{world.base}/jobs/{job.job_id}")
    assert heading(browser) == "Not found"
    assert "bob's private job" not in browser.page_source


class _CrossSitePage(http.server.BaseHTTPRequestHandler):
    """Another site (another port on 127.0.0.1) whose page posts a form to the dashboard as
    soon as it loads."""

    target = ""

    def do_GET(self) -> None:
        body = (
            f'<form id="f" method="post" action="{self.target}">'
            '<input name="csrf" value="guessed"></form>'
            "<script>document.getElementById('f').submit()</script>"
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def test_a_form_posted_from_another_site_is_refused(browser, world):
    job = world.job("alice", name="not to be cancelled", task_count=2)
    sign_in(browser, world, "alice")  # the browser holds alice's session cookie
    handler = type("Page", (_CrossSitePage,), {"target": f"{world.base}/jobs/{job.job_id}/cancel"})
    evil = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=evil.serve_forever, daemon=True).start()
    try:
        browser.get(f"http://127.0.0.1:{evil.server_address[1]}/")
        wait_for(browser, lambda d: d.current_url.endswith("/cancel"), "the form was posted")
        assert heading(browser) == "Form refused"
    finally:
        evil.shutdown()
        evil.server_close()
    assert world.state("alice", job.job_id) == common_pb2.JOB_STATE_PENDING


def test_cancelling_a_job(browser, world):
    job = world.job("alice", name="to cancel", task_count=3)
    sign_in(browser, world, "alice")
    browser.get(f"{world.base}/jobs/{job.job_id}")
    by_id(browser, "cancel-job").click()
    wait_for(browser, lambda d: d.switch_to.alert, "the confirmation").accept()
    wait_for(browser, lambda d: "Job cancelled" in by_id(d, "flash").text, "the flash")
    assert world.state("alice", job.job_id) == common_pb2.JOB_STATE_CANCELLED


def test_the_admin_bans_a_node_and_it_gets_no_more_work(browser, world):
    from selenium.webdriver.common.by import By

    world.job("alice", name="more work", task_count=2)
    sign_in(browser, world, "alice")
    browser.get(f"{world.base}/admin/nodes")
    row = browser.find_element(By.CSS_SELECTOR, f'tr[data-node="{world.node.node_id}"]')
    row.find_element(By.NAME, "reason").send_keys("returns made-up results")
    row.find_element(By.CSS_SELECTOR, "button.ban").click()
    wait_for(browser, lambda d: d.switch_to.alert, "the confirmation").accept()
    wait_for(browser, lambda d: "bob-box is banned" in by_id(d, "flash").text, "the flash")
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        world.run(lease(world.stubs, world.node.node))
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "returns made-up results" in refused.value.details()
    row = browser.find_element(By.CSS_SELECTOR, f'tr[data-node="{world.node.node_id}"]')
    assert "banned" in row.text


def test_switching_the_language(browser, world):
    from selenium.webdriver.common.by import By

    sign_in(browser, world, "alice")
    browser.get(f"{world.base}/network")
    browser.find_element(By.CSS_SELECTOR, 'button[value="zh-TW"]').click()
    wait_for(browser, lambda d: heading(d) == "網路", "the page in 繁體中文")
    browser.find_element(By.CSS_SELECTOR, 'button[value="en"]').click()
    wait_for(browser, lambda d: heading(d) == "Network", "back in English")
