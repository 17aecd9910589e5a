"""The lookahead API against the real server: prepare, commit, cache hits, errors, no leaks."""
import requests

SYSTEM = [1] + list(range(20, 120))            # shared prefix (the system prompt)
TURNS = list(range(130, 330))                   # the long original history
SUMMARY = list(range(340, 380))                 # what a summary turns the history into


def post(url, path, body=None):
    return requests.post(url + path, json=body, timeout=120)


def generate(url, ids, session=None):
    body = {"input_ids": ids, "sampling_params": {"max_new_tokens": 3, "temperature": 0}}
    if session:
        body["session_id"] = session
    resp = post(url, "/generate", body)
    assert resp.status_code == 200, resp.text
    return resp.json()


def integrity_ok(url):
    resp = requests.get(url + "/agentrt/radix/integrity", timeout=60)
    assert resp.status_code == 200 and resp.json() == {"ok": True}, resp.text


def test_commit_request_hits_the_whole_prepared_branch(url):
    assert post(url, "/agentrt/sessions", {"session_id": "api-1",
                                           "tokens": SYSTEM + TURNS}).status_code == 200
    generate(url, SYSTEM + TURNS, session="api-1")
    branch = post(url, "/agentrt/sessions/api-1/prepare", {
        "tokens": SYSTEM + SUMMARY, "strategy": "summary", "version": 1,
        "source_signature": "sha:abc", "wait": True}).json()
    assert branch["state"] == "ready" and branch["protected"] and branch["fork_len"] == len(SYSTEM)
    snap = requests.get(url + "/agentrt/radix", timeout=60).json()
    tagged = [n for n in snap["nodes"] if branch["id"] in n.get("branches", [])]
    assert len(tagged) == 1 and tagged[0]["protected"]
    committed = post(url, f"/agentrt/sessions/api-1/branches/{branch['id']}/commit").json()
    assert committed["branch"]["state"] == "committed"
    assert committed["session"]["context_tokens"] == len(SYSTEM + SUMMARY)
    out = generate(url, SYSTEM + SUMMARY + [400, 401, 402], session="api-1")
    assert out["meta_info"]["cached_tokens"] == len(SYSTEM + SUMMARY)
    status = requests.get(url + "/agentrt/sessions/api-1", timeout=30).json()
    assert status["pin"] is None  # the commit pin ends when the commit request arrives
    integrity_ok(url)
    assert requests.delete(url + "/agentrt/sessions/api-1", timeout=30).json()["closed"]


def test_append_catch_up_then_commit(url):
    post(url, "/agentrt/sessions", {"session_id": "api-2", "tokens": SYSTEM + TURNS})
    branch = post(url, "/agentrt/sessions/api-2/prepare", {
        "tokens": SYSTEM + SUMMARY, "strategy": "summary", "version": 1, "wait": True}).json()
    grown = post(url, f"/agentrt/sessions/api-2/branches/{branch['id']}/append",
                 {"tokens": [450, 451, 452, 453], "wait": True}).json()
    assert grown["state"] == "ready" and grown["tokens"] == len(SYSTEM + SUMMARY) + 4
    assert [h["reason"] for h in grown["history"]][-1] == "caught up"
    post(url, f"/agentrt/sessions/api-2/branches/{branch['id']}/commit")
    out = generate(url, SYSTEM + SUMMARY + [450, 451, 452, 453, 460], session="api-2")
    assert out["meta_info"]["cached_tokens"] == len(SYSTEM + SUMMARY) + 4
    requests.delete(url + "/agentrt/sessions/api-2", timeout=30)
    integrity_ok(url)


def test_prepare_sent_promoted_counts_and_lands(url):
    """``promote: true`` (a commit is due soon) prefills the branch in the fast lane; the
    scheduler counts the promotion and every branch prefill token."""
    fresh = list(range(391, 431))                  # never cached before: all 40 prefilled
    post(url, "/agentrt/sessions", {"session_id": "api-p", "tokens": SYSTEM + TURNS})
    try:
        before = requests.get(url + "/agentrt/scheduler", timeout=30).json()["stats"]
        branch = post(url, "/agentrt/sessions/api-p/prepare", {
            "tokens": SYSTEM + fresh, "strategy": "summary", "version": 1,
            "wait": True, "promote": True}).json()
        assert branch["state"] == "ready"
        after = requests.get(url + "/agentrt/scheduler", timeout=30).json()
        assert after["stats"]["promoted_commits"] == before["promoted_commits"] + 1
        assert after["stats"]["lookahead_tokens_prefilled"] == \
            before["lookahead_tokens_prefilled"] + len(fresh)
        assert branch["id"] not in after["promoted_branches"]  # ready: out of the fast lane
    finally:
        requests.delete(url + "/agentrt/sessions/api-p", timeout=30)
    integrity_ok(url)


def held(url) -> int:
    """Tokens only lookahead holds, server-wide. The test server is shared: a test checks that
    what it held is released (never more than before it), not that other tests' sessions (a pin
    until its TTL) hold nothing."""
    return requests.get(url + "/agentrt/radix", timeout=60).json()["sizes"]["held_by_lookahead"]


def test_abandon_and_close_release_everything(url):
    before = held(url)
    post(url, "/agentrt/sessions", {"session_id": "api-3", "tokens": SYSTEM})
    branch = post(url, "/agentrt/sessions/api-3/prepare", {
        "tokens": SYSTEM + [500, 501, 502], "strategy": "window", "version": 1,
        "wait": True}).json()
    gone = post(url, f"/agentrt/sessions/api-3/branches/{branch['id']}/abandon",
                {"reason": "test"}).json()
    assert gone["state"] == "abandoned" and gone["history"][-1]["reason"] == "test"
    assert post(url, "/agentrt/sessions/api-3/pin", {"tool": "bash", "ttl_s": 5}).json()["pinned"]
    requests.delete(url + "/agentrt/sessions/api-3", timeout=30)
    snap = requests.get(url + "/agentrt/radix", timeout=60).json()
    assert snap["sizes"]["held_by_lookahead"] <= before
    assert all("api-3" not in n.get("pins", []) for n in snap["nodes"])
    integrity_ok(url)


def test_bad_input_is_4xx_and_changes_nothing(url):
    post(url, "/agentrt/sessions", {"session_id": "api-4", "tokens": SYSTEM})
    before = requests.get(url + "/agentrt/radix", timeout=60).json()["sizes"]
    cases = [
        ("/agentrt/sessions/nope/prepare", {"tokens": SYSTEM, "strategy": "s", "version": 1},
         404, "unknown session"),
        ("/agentrt/sessions/api-4/prepare", {"tokens": [9999], "strategy": "s", "version": 1},
         400, "out of vocabulary"),
        ("/agentrt/sessions/api-4/prepare", {"tokens": [77, 78], "strategy": "s", "version": 1},
         400, "does not fork"),
        ("/agentrt/sessions/api-4/prepare", {"tokens": SYSTEM, "strategy": "s"}, 400, "version"),
        ("/agentrt/sessions/api-4/prepare", {"tokens": "abc", "strategy": "s", "version": 1},
         400, "tokens"),
        ("/agentrt/sessions/api-4/branches/b999/commit", None, 404, "unknown branch"),
        ("/agentrt/sessions", {"session_id": "api-4"}, 409, "already open"),
        ("/agentrt/sessions/api-4/prepare", {"tokens": SYSTEM * 200, "strategy": "s",
                                             "version": 1}, 413, "at most 8192"),
    ]
    for path, body, status, words in cases:
        resp = post(url, path, body)
        assert resp.status_code == status and words in resp.json()["error"], (path, resp.text)
    resp = requests.post(url + "/agentrt/sessions/api-4/prepare", data="{not json", timeout=30)
    assert resp.status_code == 400
    assert requests.get(url + "/agentrt/radix", timeout=60).json()["sizes"] == before
    requests.delete(url + "/agentrt/sessions/api-4", timeout=30)
    integrity_ok(url)


def test_radix_cli_against_the_live_server(url, tmp_path):
    import subprocess
    import sys

    post(url, "/agentrt/sessions", {"session_id": "cli-1", "tokens": SYSTEM})
    branch = post(url, "/agentrt/sessions/cli-1/prepare", {
        "tokens": SYSTEM + [450, 451], "strategy": "window", "version": 1, "wait": True}).json()
    out = subprocess.run([sys.executable, "-m", "agentrt.radix_cli", "--url", url, "--save",
                          str(tmp_path / "s.json")], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert f"branch={branch['id']}" in out.stdout and "head=cli-1" in out.stdout
    assert (tmp_path / "s.json").stat().st_size > 0
    requests.delete(url + "/agentrt/sessions/cli-1", timeout=30)


def test_stale_branch_and_early_unpin(url):
    before = held(url)
    post(url, "/agentrt/sessions", {"session_id": "api-5", "tokens": SYSTEM + TURNS})
    generate(url, SYSTEM + TURNS, session="api-5")
    branch = post(url, "/agentrt/sessions/api-5/prepare", {
        "tokens": SYSTEM + SUMMARY, "strategy": "summary", "version": 1, "wait": True}).json()
    stale = post(url, f"/agentrt/sessions/api-5/branches/{branch['id']}/stale",
                 {"reason": "history edited"}).json()
    assert stale["state"] == "stale" and stale["history"][-1]["reason"] == "history edited"
    pinned = post(url, "/agentrt/sessions/api-5/pin", {"tool": "bash", "ttl_s": 60}).json()
    assert pinned["pinned"]
    assert requests.delete(url + "/agentrt/sessions/api-5/pin", timeout=30).json() == \
        {"unpinned": True}
    assert requests.get(url + "/agentrt/sessions/api-5", timeout=30).json()["pin"] is None
    assert held(url) <= before
    requests.delete(url + "/agentrt/sessions/api-5", timeout=30)
    integrity_ok(url)


def test_one_call_prepares_from_messages_and_answers_the_outcome(url):
    """The server tokenizes the messages (served template), the scheduler prefills the branch
    itself and the waiting call learns the outcome; a catch-up of messages must extend it."""
    history = [{"role": "system", "content": "You review code."},
               {"role": "user", "content": "Read the file and summarise it. " * 20}]
    edited = history[:1] + [{"role": "user", "content": "Summarise the file."}]
    want = post(url, "/agentrt/tokenize", {"messages": edited}).json()["tokens"]
    post(url, "/agentrt/sessions", {"session_id": "api-msg", "messages": history})
    branch = post(url, "/agentrt/sessions/api-msg/prepare", {
        "messages": edited, "strategy": "summary", "version": 1, "wait": True}).json()
    assert branch["outcome"] == "ready" and branch["tokens"] == len(want)
    again = post(url, "/agentrt/sessions/api-msg/prepare", {
        "messages": edited, "strategy": "summary", "version": 1, "wait": False})
    assert again.status_code == 200, again.text
    assert again.json()["id"] == branch["id"]     # a retried prepare: the same branch
    later = edited + [{"role": "assistant", "content": "It parses JSON."}]
    grown = post(url, f"/agentrt/sessions/api-msg/branches/{branch['id']}/append",
                 {"messages": later, "wait": True}).json()
    assert grown["outcome"] == "ready"
    assert grown["tokens"] == len(post(url, "/agentrt/tokenize", {"messages": later}).json()
                                  ["tokens"])
    forked = post(url, f"/agentrt/sessions/api-msg/branches/{branch['id']}/append",
                  {"messages": history, "wait": True})
    assert forked.status_code == 409 and "does not extend" in forked.json()["error"]
    newer = post(url, "/agentrt/sessions/api-msg/prepare", {
        "messages": edited, "strategy": "summary", "version": 2, "wait": True})
    assert newer.status_code == 200, newer.text
    assert newer.json()["outcome"] == "ready" and newer.json()["id"] != branch["id"]
    integrity_ok(url)
    requests.delete(url + "/agentrt/sessions/api-msg", timeout=30)


def test_a_preparation_that_cannot_fit_the_callers_idle_window_is_deferred(url):
    """With the prefill rate measured, a window of no idle time defers the preparation:
    nothing is registered, nothing prefilled."""
    generate(url, SYSTEM + TURNS + [500, 501])               # the rate is measured
    post(url, "/agentrt/sessions", {"session_id": "api-def", "tokens": SYSTEM})
    answer = post(url, "/agentrt/sessions/api-def/prepare", {
        "tokens": SYSTEM + TURNS, "strategy": "summary", "version": 1, "wait": True,
        "window_s": 0}).json()
    assert answer["outcome"] == "deferred" and answer["admission"]["start"] is False
    assert answer["reason"].startswith("needs ")
    assert requests.get(url + "/agentrt/sessions/api-def", timeout=30).json()["branches"] == []
    fits = post(url, "/agentrt/sessions/api-def/prepare", {
        "tokens": SYSTEM + TURNS, "strategy": "summary", "version": 1, "wait": True,
        "window_s": 3600}).json()
    assert fits["outcome"] == "ready" and fits["admission"]["start"] is True
    requests.delete(url + "/agentrt/sessions/api-def", timeout=30)
