"""Screenshot of the radix web view on a realistic tree, for docs/radix-view.png.

    flock /tmp/agentrt-server.lock .venv/bin/python tools/radix_view_screenshot.py [--url URL]

Without --url it serves the embedded default model (readable previews) and stops it at the end.
The tree: three agent sessions sharing a system prompt; agent-a committed a clear-tool-results
branch and took its next turn on it; agent-b has a ready summary branch and is pinned while a
tool runs; agent-c's long branch is sent once the page is open and shot while it is being
prepared; one plain request without a session sits in the cache.
"""
import argparse
import sys
from pathlib import Path

import requests

from agentrt.client.managed_server import ManagedServer
from agentrt.testing.browser import headless_chromium

ROOT = Path(__file__).resolve().parents[1]
SYSTEM = {"role": "system", "content": "You are a coding agent. Use tools to inspect the "
                                       "repository, then answer concisely."}
TOOL_OUTPUT = ("def snapshot(cache):\n    nodes = []\n    for node in walk(cache):\n"
               "        nodes.append(describe(node))\n    return nodes\n") * 6


def call(url, path, body=None):
    resp = requests.post(url + path, json=body, timeout=300)
    resp.raise_for_status()
    return resp.json()


def tokens(url, messages, gen=True):
    return call(url, "/agentrt/tokenize", {"messages": messages, "add_generation_prompt": gen})[
        "tokens"]


def turn(url, session, ids):
    call(url, "/generate", {"input_ids": ids, "session_id": session,
                            "sampling_params": {"max_new_tokens": 6, "temperature": 0}})


def agent(task):
    return [SYSTEM, {"role": "user", "content": task},
            {"role": "assistant", "content": 'read_file {"path": "python/agentrt/radix/cache.py"}'},
            {"role": "tool", "content": TOOL_OUTPUT}]


def cleared(messages):
    return [dict(m, content="[tool output cleared]") if m["role"] == "tool" else m
            for m in messages]


def build_tree(url):
    a = agent("Find where the radix tree is snapshotted and explain it.")
    call(url, "/agentrt/sessions", {"session_id": "agent-a", "tokens": tokens(url, a)})
    turn(url, "agent-a", tokens(url, a))
    branch = call(url, "/agentrt/sessions/agent-a/prepare", {
        "tokens": tokens(url, cleared(a), gen=False), "strategy": "clear_tool_results",
        "version": 1, "wait": True})
    call(url, f"/agentrt/sessions/agent-a/branches/{branch['id']}/commit")
    nxt = cleared(a) + [{"role": "user", "content": "Now list the tests that cover it."}]
    turn(url, "agent-a", tokens(url, nxt))

    b = agent("Review the lookahead runtime for race conditions.")
    call(url, "/agentrt/sessions", {"session_id": "agent-b", "tokens": tokens(url, b)})
    turn(url, "agent-b", tokens(url, b))
    summary = b[:2] + [{"role": "user", "content": "Summary so far: read cache.py (snapshot "
                                                   "walks every node)."}]
    call(url, "/agentrt/sessions/agent-b/prepare", {
        "tokens": tokens(url, summary, gen=False), "strategy": "summarize", "version": 1,
        "wait": True})
    call(url, "/agentrt/sessions/agent-b/pin", {"tool": "bash", "ttl_s": 90})

    c = agent("Write a migration plan for the scheduler hooks.") + [
        {"role": "assistant", "content": "The hooks wrap calc_priority and run_batch. " * 20}]
    call(url, "/agentrt/sessions", {"session_id": "agent-c", "tokens": tokens(url, c)})
    turn(url, "agent-c", tokens(url, c))
    requests.post(url + "/generate", json={"text": "What is a radix tree?",
                                           "sampling_params": {"max_new_tokens": 4}}, timeout=300)
    long_branch = tokens(url, cleared(c), gen=False) + tokens(url, c[-1:], gen=False) * 6
    return lambda: call(url, "/agentrt/sessions/agent-c/prepare", {
        "tokens": long_branch, "strategy": "sliding_window", "version": 1, "wait": False})


def screenshot(url, out: Path, start_preparing):
    """Open the page, start agent-c's long preparation, and shoot while it runs (if it is still
    running once the page has refreshed)."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser = headless_chromium(1500, 1000)
    try:
        browser.get(url + "/agentrt/radix/view?refresh_ms=300")
        WebDriverWait(browser, 30).until(
            lambda d: d.find_elements(By.CSS_SELECTOR, '#tree [data-head="agent-b"]'))
        tag = browser.find_element(By.CSS_SELECTOR, '#tree [data-branch][data-state="ready"]')
        tag.find_element(By.XPATH, "./ancestor::div[contains(@class,'row')]").click()
        start_preparing()
        try:
            WebDriverWait(browser, 5).until(lambda d: d.find_elements(
                By.CSS_SELECTOR, '#tree [data-branch][data-state="preparing"]'))
        except TimeoutException:
            print("agent-c's branch was ready before the page refreshed: no preparing state")
        out.parent.mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(out))
    finally:
        browser.quit()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", help="use this running server instead of starting one")
    ap.add_argument("--out", default=str(ROOT / "docs" / "radix-view.png"))
    args = ap.parse_args(argv)
    server = None if args.url else ManagedServer([]).start()
    url = args.url or server.url
    try:
        screenshot(url, Path(args.out), build_tree(url))
    finally:
        if server is not None:
            server.stop()
    print(f"radix view screenshot: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
