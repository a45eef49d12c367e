"""End to end in a real headless Chromium (Debian's chromium + chromium-driver, through selenium):
open the resume link, fill the form, approve, and watch the run page show the run finished.

The screenshots of docs/guides/approvals.md come from here: WAC_UPDATE_SCREENSHOTS=1 copies them
into docs/guides/img/."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.server.serverrun import start_gate, start_server

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "guides" / "img"


@pytest.fixture
def browser(tmp_path: Path):
    if not (os.path.exists(CHROMIUM) and os.path.exists(DRIVER)):
        pytest.skip("needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1100,900", f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=DRIVER))
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def _shot(driver, tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.png"
    driver.save_screenshot(str(path))
    if os.environ.get("WAC_UPDATE_SCREENSHOTS") == "1":
        DOCS_IMG.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOCS_IMG / f"{name}.png")


def test_a_browser_approves_through_the_link_and_sees_the_run_finish(repo: Path, tmp_path: Path, browser) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import Select, WebDriverWait

    server = start_server(repo)
    run = None
    try:
        run = start_gate(repo, server.url)
        wait = WebDriverWait(browser, 60)
        browser.get(f"{server.url}/login?token={server.token}")
        wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "table.runs")))
        browser.get(f"{server.url}/runs/{run.job_id}")
        wait.until(ec.text_to_be_present_in_element((By.ID, "run-status"), "suspended"))
        wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "button.links-button")))
        _shot(browser, tmp_path, "run-waiting")
        browser.get(run.links["any"]["approvalPage"])
        wait.until(ec.presence_of_element_located((By.ID, "approve")))
        assert "Refund for ada" in browser.page_source
        _shot(browser, tmp_path, "approval-page")
        amount = browser.find_element(By.ID, "f_amount")
        amount.clear()
        amount.send_keys("42")
        Select(browser.find_element(By.ID, "f_tier")).select_by_visible_text("gold")
        browser.find_element(By.ID, "f_urgent").click()
        browser.find_element(By.ID, "f_note").send_keys("refund approved")
        browser.find_element(By.ID, "approver").send_keys("Ada Lovelace")
        browser.find_element(By.ID, "approve").click()
        outcome = wait.until(ec.presence_of_element_located((By.ID, "outcome")))
        assert "Approved by Ada Lovelace" in outcome.text
        _shot(browser, tmp_path, "approval-done")

        browser.get(f"{server.url}/runs/{run.job_id}")
        wait.until(ec.text_to_be_present_in_element((By.ID, "run-status"), "succeeded"))
        wait.until(ec.text_to_be_present_in_element((By.ID, "graph"), "approved by Ada Lovelace"))
        _shot(browser, tmp_path, "run-finished")
        # the graph is redrawn on every event: click through the page's own DOM lookup
        browser.execute_script(f"document.querySelector('#node-{run.job_id} > .head').click()")
        wait.until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, f"#node-{run.job_id} > .details"), "squares"))
        wait.until(lambda d: "WAC" in d.find_element(By.CSS_SELECTOR, f"#node-{run.job_id} .logs").text)
        _shot(browser, tmp_path, "run-details")
        browser.get(f"{server.url}/runs")
        wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "tr.run")))
        _shot(browser, tmp_path, "runs-list")
        code, out, err = run.finish()
        assert code == 0, err
    finally:
        if run is not None:
            run.kill()
        log = server.stop()
    assert server.token not in log
