"""`make web-screenshots`: docs/screenshots/web-*.png from the real dashboard pages, in
English and 繁體中文, while a small network works (tests/web/scene.py), taken by a headless
Chromium (tests/kit/browser.py).

Run: .venv/bin/python -m tests.web.screenshots --out docs/screenshots
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from tests.kit.accounts import PASSWORD
from tests.kit.browser import browser_problem, start_chromium
from tests.web.scene import Scene, build_scene

LANGUAGES = {"en": "en-US", "zh_TW": "zh-TW"}
WIDTH = 1280


def sign_in(driver: Any, base: str, username: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.delete_all_cookies()
    driver.get(f"{base}/signin")
    driver.find_element(By.ID, "username").send_keys(username)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.ID, "sign-in").click()
    WebDriverWait(driver, 30).until(lambda d: "/signin" not in d.current_url)


def shoot(driver: Any, path: Path, height: int | None = None) -> None:
    """The page at 1280 px wide, as tall as it is (at most 1500 px) or `height`."""
    driver.set_window_size(WIDTH, 900)
    chrome = driver.execute_script("return window.outerHeight - window.innerHeight")
    full = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(WIDTH, min(height or full, 1500) + chrome)
    time.sleep(0.3)
    driver.save_screenshot(str(path))
    print(f"wrote {path}")


def take(scene: Scene, base: str, out: Path, workdir: Path, frontier: int) -> None:
    for suffix, accept in LANGUAGES.items():
        driver = start_chromium(workdir / f"profile-{suffix}", language=accept)
        try:
            driver.set_window_size(1280, 900)
            driver.get(f"{base}/signin")
            shoot(driver, out / f"web-{suffix}-signin.png", 620)
            sign_in(driver, base, "alice")
            pages = [
                ("network", "/network"),
                ("jobs", "/jobs"),
                ("job", f"/jobs/{scene.jobs['pi']}?from={frontier}"),
                ("admin-nodes", "/admin/nodes"),
                ("admin-ledger", "/admin/ledger"),
            ]
            for name, page in pages:
                driver.get(base + page)
                shoot(driver, out / f"web-{suffix}-{name}.png")
            sign_in(driver, base, "bob")
            driver.get(base + "/nodes")
            shoot(driver, out / f"web-{suffix}-nodes.png")
        finally:
            driver.quit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    parser.add_argument("--seconds", type=float, default=90.0, help="how long the nodes work")
    args = parser.parse_args()
    problem = browser_problem()
    if problem:
        raise SystemExit(problem)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="hivemind-web-shots-") as tmp:
        workdir = Path(tmp)
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, daemon=True)
        thread.start()
        scene = asyncio.run_coroutine_threadsafe(
            build_scene(workdir / "server", args.seconds), loop
        ).result(args.seconds + 300)
        try:
            # The job page from a few tasks before the first that is not done: some done,
            # some running, the rest waiting.
            done = asyncio.run_coroutine_threadsafe(scene.tasks_done("pi"), loop).result(60)
            take(scene, scene.server.http_url, args.out, workdir, max(done - 8, 0))
        finally:
            asyncio.run_coroutine_threadsafe(scene.close(), loop).result(60)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(10)


if __name__ == "__main__":
    main()
