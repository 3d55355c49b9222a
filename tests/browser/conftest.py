"""A real headless Chromium (Debian's chromium + chromedriver, driven by Selenium) and a desk served on a free port;
the desk whose Rasa is a local stand-in is tests/desk/conftest.py's (`desk_without_rasa`, `rasa`)."""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from fastapi import FastAPI
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service

from settings import PROJECT_ROOT
from tests.desk.conftest import desk_without_rasa, rasa  # noqa: F401  (a desk whose Rasa is a local stand-in)

SETUP_SCRIPT = PROJECT_ROOT / "scripts" / "setup-browser.sh"
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--window-size=1280,1024")
STARTUP_TIMEOUT_S = 180


def find_chromium() -> tuple[str, str] | None:
    """(browser, driver) paths, if both are installed."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


@pytest.fixture(scope="session")
def chromium() -> tuple[str, str]:
    """Chromium and chromedriver; installed by scripts/setup-browser.sh when missing (it needs root and apt-get)."""
    found = find_chromium()
    if found is None:
        subprocess.run(["bash", str(SETUP_SCRIPT)], check=False)
        found = find_chromium()
    if found is None:
        pytest.skip("no chromium and chromedriver on this machine, and scripts/setup-browser.sh could not install "
                    "them (it needs root and apt-get): the browser tests did not run")
    return found


@pytest.fixture(scope="module")
def driver(chromium, tmp_path_factory) -> Iterator[webdriver.Chrome]:
    browser, chromedriver = chromium
    options = Options()
    options.binary_location = browser
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    chrome = webdriver.Chrome(service=Service(executable_path=chromedriver), options=options)
    chrome.implicitly_wait(0)
    try:
        yield chrome
    finally:
        chrome.quit()


class ServedApp:
    """An ASGI app served by uvicorn in a thread, on a real port; a context manager."""

    def __init__(self, app: FastAPI, host: str, port: int) -> None:
        self.app = app
        self.url = f"http://{host}:{port}"
        self._server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))
        self._thread = threading.Thread(target=self._server.run, name="desk", daemon=True)

    def __enter__(self) -> ServedApp:
        self._thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("the desk stopped while starting: see the log above")
            if time.monotonic() > deadline:
                self.__exit__()
                raise RuntimeError(f"the desk did not start within {STARTUP_TIMEOUT_S} s")
            time.sleep(0.1)
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.should_exit = True
        self._thread.join()
