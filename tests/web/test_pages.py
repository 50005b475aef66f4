"""The dashboard's pages over real HTTP from a real server: who may see what, what forms
accept, the session cookie, the languages. tests/web/test_browser.py does the same things a
person does, in Chromium."""

from __future__ import annotations

import re
from pathlib import Path

import grpc
import pytest

from proto.hivemind.v1 import auth_pb2, auth_pb2_grpc, common_pb2
from server.accounts import users
from server.accounts.users import FREE_FAILURES
from server.web.translations import ZH_TW
from tests.kit.simulated_nodes import job_detail, sim_node, submit_job, work
from tests.web.webkit import CSRF_FIELD, WebClient

LIVE = {"X-HiveMind-Live": "1"}
WEB_DIR = Path(__file__).resolve().parents[2] / "server" / "web"


async def test_signed_out_visitors_are_sent_to_sign_in_and_back(server, user_session):
    await user_session(server, "alice")
    async with WebClient(server.http_url) as web:
        for path in ("/network", "/jobs", "/jobs/job-123", "/nodes", "/admin/users"):
            reply = await web.get(path)
            assert reply.status == 303, path
            assert reply.location == f"/signin?next={path}"
        assert (await web.get("/")).location == "/signin"
        # A page's live part, fetched by its script, says so instead of redirecting.
        assert (await web.get("/network/live", **LIVE)).status == 401
        # After signing in the visitor lands where they were going, never on another site.
        await web.get("/signin?next=/nodes")
        signed_in = await web.post("/signin", {"username": "alice", "password": "x" * 0})
        assert signed_in.status == 401  # an empty password is simply wrong
        reply = await web.post(
            "/signin",
            {"username": "alice", "password": "correct horse battery", "next": "/nodes"},
        )
        assert (reply.status, reply.location) == (303, "/nodes")
        assert (await web.get("/nodes")).status == 200
        for elsewhere in ("//evil.example/x", "https://evil.example", "\\\\evil"):
            await web.get("/network")  # the form token of the session signed in now
            await web.post("/signout", {})
            await web.get("/signin")
            reply = await web.post(
                "/signin",
                {"username": "alice", "password": "correct horse battery", "next": elsewhere},
            )
            assert reply.location == "/network"


async def test_session_cookie_and_the_lockout_shared_with_grpc(server, user_session):
    await user_session(server, "alice")
    async with WebClient(server.http_url) as web:
        await web.get("/signin")
        anonymous = web.cookie("hivemind-session").value
        wrong = await web.post("/signin", {"username": "alice", "password": "not the password"})
        assert wrong.status == 401 and "wrong username or password" in wrong.text
        reply = await web.sign_in("alice")
        assert reply.status == 303
        [set_cookie] = [c for c in reply.headers.getall("Set-Cookie") if "hivemind-session" in c]
        assert "HttpOnly" in set_cookie and "SameSite=Strict" in set_cookie
        assert "Path=/" in set_cookie and "Secure" not in set_cookie  # plaintext on loopback
        assert web.cookie("hivemind-session").value != anonymous
        # Signing out leaves a session that is signed in as nobody.
        await web.get("/network")
        await web.post("/signout", {})
        assert (await web.get("/network")).status == 303
        await web.get("/signin")

        # Web and gRPC sign-ins count against one lockout: the same guesses, the same lock.
        guess = {"username": "alice", "password": "guess"}
        for _ in range(FREE_FAILURES - 1):
            assert (await web.post("/signin", guess)).status == 401
        locked = await web.post("/signin", guess)
        assert locked.status == 429 and "too many failed logins" in locked.text
    async with grpc.aio.insecure_channel(server.address) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await auth_pb2_grpc.AuthServiceStub(channel).Login(
                auth_pb2.LoginRequest(username="alice", password="correct horse battery")
            )
        assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED


async def test_forms_need_their_session_token_and_our_origin(server, stubs, user_session):
    alice = await user_session(server, "alice")
    job = await submit_job(stubs, alice, name="keep me")
    cancel = f"/jobs/{job.job_id}/cancel"
    async with WebClient(server.http_url) as web, WebClient(server.http_url) as other:
        await web.sign_in("alice")
        await other.sign_in("alice")
        await web.get(f"/jobs/{job.job_id}")
        await other.get(f"/jobs/{job.job_id}")
        refusals = [
            await web.post(cancel, {"csrf": ""}),
            await web.post(cancel, {"csrf": "forged.token.value"}),
            await web.post(cancel, {"csrf": other.csrf}),  # alice's, but another session's
            await web.post(cancel, {}, Origin="http://127.0.0.1:9"),
            await web.post(cancel, {}, Origin="null"),
            await web.post(cancel, {}, **{"Sec-Fetch-Site": "same-site"}),
        ]
        for refused in refusals:
            assert refused.status == 403
            assert "Nothing was changed" in refused.text
        still = await job_detail(stubs, alice, job.job_id)
        assert still.job.state == common_pb2.JOB_STATE_PENDING

        browser_says = {"Origin": server.http_url, "Sec-Fetch-Site": "same-origin"}
        done = await web.post(cancel, {}, **browser_says)
        assert (done.status, done.location) == (303, f"/jobs/{job.job_id}")
        page = await web.get(done.location)
        assert "Job cancelled" in page.text
        assert "Job cancelled" not in (await web.get(done.location)).text  # said once
    assert (await job_detail(stubs, alice, job.job_id)).job.state == common_pb2.JOB_STATE_CANCELLED


def same_page(text: str, job_id: str) -> str:
    return CSRF_FIELD.sub("csrf", text.replace(job_id, "X"))


async def test_someone_elses_job_is_not_found(server, stubs, user_session):
    alice = await user_session(server, "alice")
    bob = await user_session(server, "bob")
    job = await submit_job(stubs, alice, name="alice's secret", task_count=1)
    node = await sim_node(stubs, bob, "bob-box")
    await work(stubs, node)
    base = f"/jobs/{job.job_id}"
    async with WebClient(server.http_url) as web:
        await web.sign_in("bob")
        unknown = await web.get("/jobs/job-00000000000000000000")
        for path in (base, f"{base}/live", f"{base}/tasks/0", f"{base}/tasks/0/result"):
            reply = await web.get(path)
            assert reply.status == 404, path
            assert "alice's secret" not in reply.text
        # The same answer as for a job that does not exist (but for its id and form token).
        assert same_page((await web.get(base)).text, job.job_id) == same_page(
            unknown.text, "job-00000000000000000000"
        )
        await web.get("/jobs")
        assert (await web.post(f"{base}/cancel", {})).status == 404
        # Admin pages are for admins.
        for path in ("/admin/jobs", "/admin/nodes", "/admin/users", "/admin/ledger"):
            assert (await web.get(path)).status == 403
    assert (await job_detail(stubs, alice, job.job_id)).job.state == common_pb2.JOB_STATE_DONE
    async with WebClient(server.http_url) as web:
        await web.sign_in("alice")
        result = await web.get(f"{base}/tasks/0/result")
        assert result.status == 200
        assert result.text == "square of 0 is 0\n"
        assert result.headers["Content-Disposition"].startswith("attachment;")


async def test_what_users_typed_is_shown_as_text_with_a_strict_policy(server, stubs, user_session):
    alice = await user_session(server, "alice")
    job = await submit_job(stubs, alice, name="<script>alert(1)</script>", task_count=1)
    async with WebClient(server.http_url) as web:
        await web.sign_in("alice")
        for path in ("/jobs", f"/jobs/{job.job_id}"):
            page = await web.get(path)
            assert "<script>alert(1)" not in page.text
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
            policy = page.headers["Content-Security-Policy"]
            assert "script-src 'self'" in policy and "default-src 'none'" in policy
            assert page.headers["X-Frame-Options"] == "DENY"
            assert page.headers["X-Content-Type-Options"] == "nosniff"
            assert page.headers["Cache-Control"] == "no-store"
        # The only script a page loads is our own file.
        scripts = re.findall(r"<script[^>]*>", page.text)
        assert len(scripts) == 1 and 'src="/static/live.js' in scripts[0]


async def test_language_from_the_browser_or_the_switch(server, user_session):
    await user_session(server, "alice")
    async with WebClient(server.http_url) as web:
        await web.sign_in("alice")
        chinese = await web.get("/network", **{"Accept-Language": "zh-TW,zh;q=0.9,en;q=0.5"})
        assert "我的工作" in chinese.text and 'lang="zh-Hant-TW"' in chinese.text
        assert "My jobs" in (await web.get("/network", **{"Accept-Language": "en-GB"})).text
        await web.post("/language", {"language": "en", "next": "/jobs"})
        english = await web.get("/jobs", **{"Accept-Language": "zh-TW"})
        assert "My jobs" in english.text  # the visitor's choice wins over the browser's
        await web.post("/language", {"language": "zh-TW", "next": "/jobs"})
        assert "我的工作" in (await web.get("/jobs")).text


TRANSLATED_CALL = re.compile(r"""(?:\b_|gettext)\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')""")


def test_every_text_of_the_dashboard_has_a_chinese_translation():
    sources = [*WEB_DIR.glob("templates/*.html"), *WEB_DIR.glob("pages/*.py")]
    sources.append(WEB_DIR / "rendering.py")
    texts = {
        first or second
        for path in sources
        for first, second in TRANSLATED_CALL.findall(path.read_text())
    }
    assert len(texts) > 100
    assert sorted(text for text in texts if text not in ZH_TW) == []
    # Placeholders survive translation.
    for english, chinese in ZH_TW.items():
        assert sorted(re.findall(r"%\(\w+\)\w", english)) == sorted(
            re.findall(r"%\(\w+\)\w", chinese)
        ), english


async def test_the_network_page_shows_the_network(server, stubs, user_session):
    alice = await user_session(server, "alice")
    await submit_job(stubs, alice, task_count=5)
    await work(stubs, await sim_node(stubs, alice, "alice-box"), max_tasks=2)
    async with WebClient(server.http_url) as web:
        await web.sign_in("alice")
        page = await web.get("/network")
        live = await web.get("/network/live", **LIVE)
    assert page.status == live.status == 200
    for text in (page.text, live.text):
        assert re.search(r'id="nodes-online">1<', text)
        assert re.search(r'id="cores-offered">8 cores<', text)
        assert re.search(r'id="queue-depth">3 tasks<', text)
        assert text.count('<svg class="chart"') == 3
    assert "<html" in page.text and "<html" not in live.text  # the live part alone
    assert page.headers["Server"] == "HiveMind"


async def test_a_job_with_rounds_lists_its_rounds(server, stubs, user_session):
    alice = await user_session(server, "alice")
    job = await submit_job(
        stubs,
        alice,
        name="training",
        task_count=2,
        rounds=3,
        aggregate_command=["python3", "aggregate.py"],
    )
    await work(stubs, await sim_node(stubs, alice, "alice-box"), max_tasks=1)
    async with WebClient(server.http_url) as web:
        await web.sign_in("alice")
        page = await web.get(f"/jobs/{job.job_id}")
        assert page.status == 200
        assert "round 1 of 3" in page.text and 'id="rounds"' in page.text
        assert "<code>python3 aggregate.py</code>" in page.text
        assert f'href="/jobs/{job.job_id}/tasks/0?round=0"' not in page.text  # round 0: no ?
        assert f'href="/jobs/{job.job_id}/tasks/0"' in page.text
        task = await web.get(f"/jobs/{job.job_id}/tasks/0?round=0")
        assert task.status == 200 and "round 1" in task.text
        assert (await web.get(f"/jobs/{job.job_id}/tasks/0?round=2")).status == 404  # not yet
        assert (await web.get(f"/jobs/{job.job_id}/tasks/0?round=x")).status == 404


async def test_the_admin_bans_a_user_and_their_session_ends_at_once(server, user_session):
    await user_session(server, "root", admin=True)
    await user_session(server, "alice")
    await user_session(server, "bob")
    async with WebClient(server.http_url) as root, WebClient(server.http_url) as alice:
        await alice.sign_in("alice")
        assert (await alice.get("/nodes")).status == 200
        await root.sign_in("root")
        users_page = await root.get("/admin/users")
        # Starter credit is shown apart from CPT: the suite's servers give 100 CPT of it.
        row = re.search(r'<tr data-user="alice">(.*?)</tr>', users_page.text, re.S).group(1)
        assert re.findall(r'<td class="num">([^<]*)</td>', row) == ["0", "100"]
        assert "Starter credit (CPT)" in users_page.text

        # An admin cannot lock themselves out: refused, and nothing changes.
        await root.post("/admin/users/ROOT/ban", {"reason": "oops"})
        refused = await root.get("/admin/users")
        assert "you cannot ban your own account" in refused.text
        assert refused.status == 200 and "User root is banned." not in refused.text

        banned = await root.post("/admin/users/alice/ban", {"reason": "sybil farm"})
        assert (banned.status, banned.location) == (303, "/admin/users")
        after = await root.get("/admin/users")
        assert "User alice is banned." in after.text and "sybil farm" in after.text
        # Her cookie stops working on her next click, and she cannot sign in again.
        assert (await alice.get("/nodes")).location == "/signin?next=/nodes"
        refused = await alice.sign_in("alice")
        assert refused.status == 403 and "banned" in refused.text

        await root.post("/admin/users/alice/unban", {})
        assert "User alice may sign in again." in (await root.get("/admin/users")).text
        assert (await alice.sign_in("alice")).status == 303
        assert (await alice.get("/nodes")).status == 200

    # A role change bumps the credential generation: a session from before it ends too.
    async with WebClient(server.http_url) as bob:
        await bob.sign_in("bob")
        assert (await bob.get("/nodes")).status == 200
        await users.change_role(server.ctx, "bob", True)
        assert (await bob.get("/nodes")).status == 303
        await bob.sign_in("bob")
        assert (await bob.get("/admin/users")).status == 200
