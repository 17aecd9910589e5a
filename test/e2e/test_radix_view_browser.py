"""The radix web view in real headless Chromium against a real server (tiny model): a prepared
branch, its state and the session head appear; a commit shows up by auto-refresh without losing
the selection; a token-prefix match is highlighted; a 10,000-node snapshot renders quickly."""
import time

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from agentrt.client.managed_server import ManagedServer
from agentrt.testing.browser import BrowserMissingError, headless_chromium
from agentrt.testing.synthetic_snapshot import synthetic_snapshot
from agentrt.testing.tiny_model import build_tiny_model

SYSTEM = [1] + list(range(20, 120))
TURNS = list(range(130, 330))
SUMMARY = list(range(340, 380))
SESSION = "view-1"
RENDER_BOUND_S = 3.0


@pytest.fixture(scope="module")
def url(tmp_path_factory):
    srv = ManagedServer(["--model-path", str(build_tiny_model()), "--max-total-tokens", "32768"],
                        log_path=tmp_path_factory.mktemp("server") / "server.log")
    srv.start()
    yield srv.url
    srv.stop()
    assert srv.proc is None


@pytest.fixture(scope="module")
def browser():
    try:
        driver = headless_chromium()
    except BrowserMissingError as exc:
        pytest.fail(str(exc))
    yield driver
    driver.quit()


def post(url, path, body=None):
    resp = requests.post(url + path, json=body, timeout=120)
    assert resp.status_code == 200, (path, resp.text)
    return resp.json()


def wait_for(browser, css, timeout=20):
    return WebDriverWait(browser, timeout).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, css), f"{css} did not appear")[0]


# The page redraws the tree on every refresh, so a row is read (or clicked) in one script run:
# elements found by one WebDriver call may be gone by the next.
ROW_JS = """
const hit = document.querySelector(arguments[0]);
const row = hit && hit.closest('.row');
if (!row) return null;
if (arguments[1]) row.click();
return {id: row.dataset.id, classes: row.className, text: row.innerText,
        hit: hit.innerText, node: row.querySelector('.node').className,
        has: arguments[2].map((css) => !!row.querySelector(css))};
"""


def row(browser, css, click=False, has=(), timeout=20):
    """The row (drawn node) holding ``css``: its id, classes, text, whether it holds ``has``."""
    return WebDriverWait(browser, timeout).until(
        lambda d: d.execute_script(ROW_JS, css, click, list(has)), f"{css} did not appear")


def text_of(browser, element_id):
    return browser.execute_script(f"return document.getElementById('{element_id}').innerText")


def test_live_branch_head_commit_and_match(url, browser):
    post(url, "/agentrt/sessions", {"session_id": SESSION, "tokens": SYSTEM + TURNS})
    post(url, "/generate", {"input_ids": SYSTEM + TURNS, "session_id": SESSION,
                            "sampling_params": {"max_new_tokens": 3, "temperature": 0}})
    branch = post(url, f"/agentrt/sessions/{SESSION}/prepare", {
        "tokens": SYSTEM + SUMMARY, "strategy": "summary", "version": 1, "wait": True})
    assert branch["state"] == "ready"
    bid = branch["id"]
    assert post(url, f"/agentrt/sessions/{SESSION}/pin", {"tool": "bash", "ttl_s": 60})["pinned"]

    browser.get(url + "/agentrt/radix/view?refresh_ms=500")
    ready = row(browser, f'#tree [data-branch="{bid}"][data-state="ready"]')
    assert ready["hit"].split() == ["⎇", bid, "ready"]
    assert "lineage-transformed" in ready["node"] and "state-protected" in ready["node"]
    head = row(browser, f'#tree [data-head="{SESSION}"]', has=[f'[data-pin="{SESSION}"]'])
    assert head["has"] == [True] and "state-protected" in head["node"]
    assert "lineage-original" in head["node"]
    assert text_of(browser, "error") == ""

    row(browser, f'#tree [data-branch="{bid}"]', click=True)
    WebDriverWait(browser, 10).until(lambda d: f"branch {bid}" in text_of(d, "details"))
    browser.find_element(By.ID, "zoom-in").click()
    browser.find_element(By.ID, "zoom-in").click()
    browser.execute_script("window.__sameDocument = true")
    renders = int(browser.execute_script("return document.body.dataset.renders"))

    post(url, f"/agentrt/sessions/{SESSION}/branches/{bid}/commit")
    committed = row(browser, f'#tree [data-branch="{bid}"][data-state="committed"]',
                    has=[f'[data-head="{SESSION}"]'])
    assert committed["hit"].split() == ["⎇", bid, "committed"]
    assert committed["has"] == [True]                                      # the head moved
    assert committed["id"] == ready["id"] and "selected" in committed["classes"]  # selection kept
    assert browser.execute_script("return window.__sameDocument") is True   # refreshed in place
    assert int(browser.execute_script("return document.body.dataset.renders")) > renders
    assert text_of(browser, "zoom-level") == "156%"                           # zoom kept
    assert "scale(1.5625)" in browser.execute_script(
        "return document.getElementById('tree').style.transform")
    WebDriverWait(browser, 10).until(
        lambda d: "ready → committed (commit)" in text_of(d, "details"))
    assert f"{bid} committed" in browser.execute_script(
        f"return document.querySelector('[data-session=\"{SESSION}\"]').innerText")

    browser.find_element(By.ID, "match").send_keys(",".join(map(str, SYSTEM + SUMMARY + [999])))
    browser.find_element(By.ID, "match-go").click()
    matched = row(browser, "#tree .row.matched .node")
    assert matched["id"] == ready["id"]
    assert f"match {len(SYSTEM + SUMMARY)} tok" in matched["text"]


def test_ten_thousand_node_snapshot_renders_within_bound(url, browser):
    browser.get(url + "/agentrt/radix/view?refresh_ms=500")
    wait_for(browser, "#tree .row")
    started = time.perf_counter()
    result = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "window.agentrtView.loadSnapshot(arguments[0]).then(done, (e) => done({error: String(e)}))",
        synthetic_snapshot(10_000))
    wall_s = time.perf_counter() - started
    print(f"\n10,000-node snapshot: drawn in {result.get('ms', -1):.0f} ms in the page "
          f"({wall_s * 1000:.0f} ms with the transfer from the test), {result.get('drawn')} rows")
    assert "error" not in result, result
    assert result["total"] == 10_000 and result["drawn"] <= 410
    assert result["ms"] < RENDER_BOUND_S * 1000
    assert len(browser.find_elements(By.CSS_SELECTOR, "#tree .row")) == result["drawn"]
    assert browser.find_element(By.CSS_SELECTOR, '#tree [data-head="synthetic"]')
    assert "saved snapshot" in browser.find_element(By.ID, "status").text

    stub = browser.find_element(By.CSS_SELECTOR, "#tree .hidden-stub")
    parent = stub.get_attribute("data-expand")
    before = len(browser.find_elements(By.CSS_SELECTOR, "#tree .row"))
    t0 = time.perf_counter()
    stub.click()
    WebDriverWait(browser, RENDER_BOUND_S).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, "#tree .row")) > before)
    print(f"expanding node {parent}: {(time.perf_counter() - t0) * 1000:.0f} ms")
    assert not browser.find_elements(By.CSS_SELECTOR, f'#tree .hidden-stub[data-expand="{parent}"]')

    failed = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "window.agentrtView.loadSnapshot({x: 1}).then(() => done('loaded'), (e) => done(String(e)))")
    assert "not an agentrt radix snapshot" in failed
    assert "not an agentrt radix snapshot" in browser.find_element(By.ID, "error").text


def test_page_shows_a_failing_control_channel_readably(browser):
    """The page and its routes on a real uvicorn server whose control channel always times out
    (a stand-in for a scheduler that does not answer): the page says so instead of going blank."""
    import threading

    import uvicorn
    from fastapi import FastAPI

    from agentrt.client.managed_server import free_port
    from agentrt.server.http import errors
    from agentrt.server.control.client import ControlError
    from agentrt.server.http.radix_view import build_router
    from agentrt.server.http.routes import add_previews

    class SilentScheduler:
        async def call(self, op, **args):
            raise ControlError(f"the scheduler did not answer {op!r} in 30 s", 504)

    app = FastAPI()
    app.include_router(build_router(SilentScheduler(), lambda: None, add_previews))
    errors.install(app)   # routes raise; the app's handlers answer (as agentrt serve installs)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=free_port(),
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        browser.get(f"http://127.0.0.1:{server.config.port}/agentrt/radix/view?refresh_ms=500")
        error = wait_for(browser, "#error.shown")
        assert ("HTTP 504: cannot read the radix tree from the scheduler: the scheduler did not "
                "answer 'snapshot' in 30 s") in error.text
        assert "could not be loaded" in browser.find_element(By.ID, "tree").text
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    assert not thread.is_alive()
