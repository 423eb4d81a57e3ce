"""Remake the README's screenshots with headless Chromium: ``python docs/img/make_screenshots.py``.

``report.png``: the first screen of ``report.html`` for werkbeweging against the Utrecht baseline
(10 years, 8 replications). ``explore.png``: the explore page after the caseload norm of
arrangement 3 is lowered to 125 and the bands are computed. Needs ``chromium`` (Debian) and the
test extras (playwright); takes a few minutes on two cores.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

HERE = Path(__file__).resolve().parent
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]  # fmt: skip


def report(browser, tmp: Path) -> None:
    out = tmp / "cmp"
    subprocess.run([sys.executable, "-m", "sim", "compare", "utrecht_baseline", "werkbeweging", "-r", "8", "--out",
                    str(out), "--quiet"], check=True)  # fmt: skip
    page = browser.new_page(viewport={"width": 1100, "height": 1400})
    page.goto((out / "report.html").as_uri())
    page.screenshot(path=str(HERE / "report.png"))
    page.close()


def explore(browser) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "sim", "explore", "-r", "3", "--port", str(port)])
    try:
        url = f"http://127.0.0.1:{port}/"
        for _ in range(120):
            try:
                urllib.request.urlopen(url, timeout=5).read()  # noqa: S310 (localhost)
                break
            except OSError:
                time.sleep(0.5)
        page = browser.new_page(viewport={"width": 1400, "height": 1250})
        page.goto(url)
        page.wait_for_selector("#exits-work-figure", timeout=120_000)
        before = page.inner_text("#exits-work-figure")
        norm = page.locator('input[id*="norm"][id*="opstap"]')
        norm.click()
        norm.press("Control+a")
        norm.press_sequentially("125")
        page.wait_for_function("b => document.querySelector('#exits-work-figure').innerText !== b", arg=before,
                               timeout=120_000)  # fmt: skip
        page.click("#get-bands")
        page.wait_for_selector("#i-deel-figure", timeout=600_000)
        time.sleep(1)
        page.screenshot(path=str(HERE / "explore.png"))
        page.close()
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("needs chromium (apt-get install chromium)")
    with sync_playwright() as p, tempfile.TemporaryDirectory() as tmp:
        browser = p.chromium.launch(executable_path=chromium, args=ARGS)
        report(browser, Path(tmp))
        explore(browser)
        browser.close()
    print(HERE / "report.png", HERE / "explore.png")


if __name__ == "__main__":
    main()
