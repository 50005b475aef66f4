"""A real browser for the dashboard's tests and screenshots: Debian's chromium through its
chromedriver (Selenium), headless, with a fresh profile.

The flags keep Chromium from reaching out to Google's services at start (this machine, and
CI, have no internet: without them it waits on network calls that never answer) and from
needing a GPU or a sandbox it cannot set up as root in a container.

    driver = start_chromium(tmp_path / "profile", downloads=tmp_path / "downloads")
    try: driver.get(url) ...
    finally: driver.quit()
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
QUIET_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--disable-default-apps",
    "--disable-extensions",
)


def browser_problem() -> str:
    """Why the browser tests cannot run here ("" when they can)."""
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not (Path(path).exists() or shutil.which(Path(path).name)):
            return f"{path} is missing (apt-get install {package})"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "the selenium package is missing (pip install -e '.[test]')"
    return ""


def start_chromium(
    profile: Path,
    *,
    downloads: Path | None = None,
    width: int = 1280,
    height: int = 900,
    language: str = "en-US",
) -> Any:
    """A headless Chromium on a new profile in `profile`; files it downloads land in
    `downloads`. `language` is what it sends as Accept-Language."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile.mkdir(parents=True, exist_ok=True)
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or CHROMIUM
    for flag in QUIET_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument(f"--window-size={width},{height}")
    options.add_argument(f"--lang={language}")
    prefs: dict[str, Any] = {"intl.accept_languages": language}
    if downloads is not None:
        downloads.mkdir(parents=True, exist_ok=True)
        prefs.update(
            {
                "download.default_directory": str(downloads),
                "download.prompt_for_download": False,
                "safebrowsing.enabled": False,
            }
        )
    options.add_experimental_option("prefs", prefs)
    service = Service(shutil.which("chromedriver") or CHROMEDRIVER)
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(30)
    if downloads is not None:
        # Headless Chromium saves downloads only when told where (the pref alone is ignored).
        driver.execute_cdp_cmd(
            "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
        )
    return driver
