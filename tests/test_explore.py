"""`caseload-sim explore`: the page's model, and the page itself in a real headless browser."""

import dataclasses
import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from sim.explore import model
from sim.explore.app import page_state


def test_a_lower_caseload_norm_raises_exits_to_work_in_the_analytic_model():
    state = model.defaults("utrecht_baseline", 2)
    assert state.norm == {"werk": 150.0, "opstap": 280.0}
    assert state.places == {"werktraining": 270.0, "behoud": 250.0, "sociale_onderneming": 500.0, "beschut": 170.0}
    lower = dataclasses.replace(state, norm={**state.norm, "opstap": 100.0})
    variant = model.variant(lower, "explored")
    assert variant.werkmatchers["opstap"].caseload_norm.value == 100 and variant.name == "Utrecht baseline (explored)"
    assert model.analytic_lines(variant)["exits_work_year"] > model.base_lines("utrecht_baseline", 2)["exits_work_year"]
    unchanged = model.variant(state, "explored")
    assert unchanged.name == "Utrecht baseline" and unchanged.observed  # observed points still found


def test_page_state_shocks_and_budgets_become_a_valid_variant():
    ids = lambda kind, keys: [{"type": kind, "key": k} for k in keys]  # noqa: E731
    state = page_state("utrecht_baseline", 2, [30, 12], [150, 125], [300], 20, 2016, -5, 50,
                       ids("fte", ["werk", "opstap"]), ids("norm", ["werk", "opstap"]), ids("places", ["werktraining"]))  # fmt: skip
    scenario = model.variant(state, "explored")
    lever = scenario.levers["explore_inflow_shock"]
    assert lever.multiply == 1.2 and lever.start.year == 2016
    assert scenario.werkmatchers["werk"].fte.value == 30 and scenario.states["werktraining"].places.value == 300
    assert scenario.budget.i_deel.grant.values == {k: round(v * 0.95, 2) for k, v in model.load_scenario_cached(
        "utrecht_baseline").budget.i_deel.grant.values.items()}  # fmt: skip


def test_downloads_are_the_compare_report_and_workbook():
    state = model.defaults("utrecht_baseline", 1)
    arms = model.pair(dataclasses.replace(state, norm={**state.norm, "opstap": 100.0}), "explored", 2, 1)
    files = model.files(arms, "en")
    assert b"Compared with Utrecht baseline, Utrecht baseline (explored) changes" in files["report.html"]
    assert files["comparison.xlsx"][:2] == b"PK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server():
    port = _free_port()
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "sim", "explore", "--years", "2", "-r", "2", "-w", "1", "--lang", "en",
                             "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(url, timeout=5) as page:  # noqa: S310 (localhost only)
                    assert b"Explore a scenario" in page.read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"explore did not start: {proc.stdout.read().decode()[-2000:]}") from None
                time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_explore_page_follows_the_caseload_norm(server, browser, tmp_path):
    page = browser.new_page(viewport={"width": 1400, "height": 1800})
    page.goto(server)
    page.wait_for_selector("#exits-work-figure", timeout=90_000)
    before = page.inner_text("#exits-work-figure")
    norm = page.locator('input[id*="norm"][id*="opstap"]')
    assert norm.input_value() == "280"
    norm.click()
    norm.press("Control+a")
    norm.press_sequentially("100")  # typed as a person would; the page sends it after a short pause
    page.wait_for_function("b => document.querySelector('#exits-work-figure').innerText !== b", arg=before,
                           timeout=90_000)  # fmt: skip
    after = page.inner_text("#exits-work-figure")
    assert int(after.replace(",", "")) > int(before.replace(",", ""))  # more contact, more exits to work
    page.click("#get-bands")
    page.wait_for_selector("#i-deel-figure", timeout=180_000)
    loaded = page.eval_on_selector_all("#bands img", "imgs => imgs.map(i => i.complete && i.naturalWidth > 100)")
    assert len(loaded) == 3 and all(loaded)
    with page.expect_download(timeout=180_000) as download:
        page.click("#get-report")
    saved = tmp_path / "report.html"
    download.value.save_as(saved)
    assert "Utrecht baseline (explored)" in saved.read_text(encoding="utf-8")
    shot = tmp_path / "explore.png"
    page.screenshot(path=str(shot), full_page=True)
    page.close()
    print(f"screenshot: {shot}")


def test_warm_up_runs_the_compiled_engine_in_a_thread_of_its_own(monkeypatch):
    import threading

    from sim.engines import select

    ran = []
    real = select.simulate

    def recording(compiled, seed, replication=0, kernel="auto", log_events=False):
        ran.append((kernel, compiled.n_months, threading.current_thread().name))
        return real(compiled, seed, replication, kernel=kernel, log_events=log_events)

    monkeypatch.setattr(select, "simulate", recording)
    thread = threading.Thread(target=model.warm_up, args=("utrecht_baseline",), name="warm-up")
    thread.start()
    thread.join(300)
    assert ran == [("compiled", 12, "warm-up")]  # one year, compiled, off the server's threads
