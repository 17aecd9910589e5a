"""Two tiny-model agentrt workers behind SGLang's real router (smg, policy manual), loopback only:
sessions keep their worker, both workers get sessions, later turns hit the cache, agent fields
reach the worker, a branch prepared on the home worker is hit by the commit sent through the
router (a retried control call changes nothing), SGLang frontend programs keep their worker, and a
vanished worker loses no answer (its sessions move)."""
import time

import pytest
import requests

from agentrt.cluster import HomeBook, routed_worker, routing_headers
from agentrt.cluster.launch import Cluster

SYSTEM = [1] + list(range(20, 120))
SESSIONS, TURNS = 10, 3


@pytest.fixture(scope="module")
def cluster(tiny_model, tmp_path_factory):
    args = ["--model-path", str(tiny_model), "--max-total-tokens", "8192"]
    with Cluster(2, args, log_dir=tmp_path_factory.mktemp("cluster")) as c:
        yield c


def turn(router, sid, ids, retries=0, **extra):
    """One turn through the router; with ``retries``, a refused or failed answer is retried (a
    vanished worker: the router moves the key once its health check marks the worker down)."""
    for attempt in range(retries + 1):
        try:
            resp = requests.post(router + "/generate", headers=routing_headers(sid), timeout=120,
                                 json={"input_ids": ids, "session_id": sid, **extra,
                                       "sampling_params": {"max_new_tokens": 3,
                                                           "temperature": 0}})
            if resp.status_code == 200:
                return resp
        except requests.ConnectionError:
            pass
        time.sleep(1.0)
    raise AssertionError(f"no answer for {sid} after {retries + 1} tries")


def test_sessions_keep_their_worker_and_hit_the_cache(cluster):
    homes = HomeBook()
    for t in range(TURNS):
        for s in range(SESSIONS):
            sid = f"c-{s}"
            ids = SYSTEM + [200 + s] * 10 + list(range(300, 300 + 20 * (t + 1)))
            resp = turn(cluster.url, sid, ids)
            assert homes.observe(sid, routed_worker(resp.headers)) is None   # never moved
            if t > 0:
                assert resp.json()["meta_info"]["cached_tokens"] >= len(SYSTEM) + 10
    workers = {homes.home(f"c-{s}") for s in range(SESSIONS)}
    assert workers == {w.url for w in cluster.workers}     # both workers got sessions


def test_agent_fields_reach_the_home_worker(cluster):
    sid = "c-fields"
    first = turn(cluster.url, sid, SYSTEM + [7, 8, 9])
    home = routed_worker(first.headers)
    info = requests.get(home + "/agentrt/info", timeout=30).json()
    assert info["worker"]["url"] == home
    requests.post(home + "/agentrt/sessions", json={"session_id": sid}, timeout=30)
    turn(cluster.url, sid, SYSTEM + [7, 8, 9, 10], program_id=sid, request_class="fg",
         agent_hints={"step_index": 1, "tool_name": "bash", "cache_ttl_ms": 2000})
    status = requests.get(f"{home}/agentrt/sessions/{sid}", timeout=30).json()
    assert status["context_tokens"] >= len(SYSTEM) + 4     # session_id reached the worker
    assert status["pin"] is not None and status["pin"]["tool"] == "bash"   # so did agent_hints


def test_context_management_through_the_router(cluster):
    """Server-side editing needs no client change behind the router: the field reaches the
    worker, the edit state is keyed by the routing key, and the next turn hits the cache."""
    import openai

    from .test_context_editing import CLEAR, openai_history

    client = openai.OpenAI(base_url=cluster.url + "/v1", api_key="unused")
    model = client.models.list().data[0].id
    sticky = {"edits": [dict(CLEAR["edits"][0], trigger={"type": "input_tokens", "value": 700})]}
    replies = [client.chat.completions.create(
        model=model, messages=openai_history(n), max_tokens=2, temperature=0,
        extra_headers=routing_headers("c-edit"), extra_body={"context_management": sticky})
        for n in (4, 5)]
    for reply in replies:
        assert reply.model_extra["context_management"]["applied_edits"][0]["cleared_tool_uses"] \
            == 3
    assert replies[1].usage.prompt_tokens_details.cached_tokens >= \
        replies[0].usage.prompt_tokens - 40


def test_commit_through_the_router_hits_the_branch_on_the_home_worker(cluster):
    sid = "c-commit"
    history = SYSTEM + list(range(130, 330))
    home = routed_worker(turn(cluster.url, sid, history).headers)
    requests.post(home + "/agentrt/sessions", json={"session_id": sid, "tokens": history},
                  timeout=30)
    summary = SYSTEM + list(range(340, 380))
    branch = requests.post(f"{home}/agentrt/sessions/{sid}/prepare", timeout=60, json={
        "tokens": summary, "strategy": "summary", "version": 1, "wait": True}).json()
    assert branch["state"] == "ready"
    again = requests.post(f"{home}/agentrt/sessions/{sid}/prepare", timeout=60, json={
        "tokens": summary, "strategy": "summary", "version": 1, "wait": True}).json()
    assert again["id"] == branch["id"]                      # a retried prepare: the same branch
    commit = f"{home}/agentrt/sessions/{sid}/branches/{branch['id']}/commit"
    first, retried = (requests.post(commit, timeout=30).json() for _ in range(2))
    assert first["branch"]["state"] == retried["branch"]["state"] == "committed"
    def unchanged(session):                                 # (a pin's remaining time runs)
        return dict(session, pin={k: session["pin"][k] for k in ("tokens", "reason")})
    assert unchanged(first["session"]) == unchanged(retried["session"])   # a retried commit
    resp = turn(cluster.url, sid, summary + [400, 401])
    assert routed_worker(resp.headers) == home
    assert resp.json()["meta_info"]["cached_tokens"] == len(summary)
    status = requests.get(f"{home}/agentrt/sessions/{sid}", timeout=30).json()
    assert [b["state"] for b in status["branches"]].count("committed") == 1


def test_health_metrics_and_radix_view_per_worker(cluster):
    """Each worker answers its own health, metrics and radix view (the branch of c-commit, from
    the test above, only on its home); the router proxies none of agentrt's paths."""
    assert requests.get(cluster.url + "/agentrt/info", timeout=30).status_code == 404
    holders = []
    for worker in cluster.workers:
        assert requests.get(worker.url + "/health", timeout=30).status_code == 200
        metrics = requests.get(worker.url + "/agentrt/metrics", timeout=30)
        assert metrics.status_code == 200 and "# TYPE" in metrics.text
        snap = requests.get(worker.url + "/agentrt/radix", timeout=30).json()
        if any(b["session_id"] == "c-commit" for b in snap["branches"]):
            holders.append(worker.url)
        assert requests.get(worker.url + "/agentrt/radix/integrity", timeout=30).json() == \
            {"ok": True}
    assert len(holders) == 1


def test_lookahead_runtime_through_the_router(cluster, tmp_path):
    """The unchanged runtime pointed at the router: its control calls reach the session's home
    worker, and the commit request (through the router) hits the branch prepared there."""
    import asyncio

    from agentrt.lookahead.strategies import SlidingWindow
    from agentrt.lookahead.strategy import ContextBudget

    from .test_lookahead_runtime import conversation, drive

    def observations_as_user(n_turns):
        """The router checks OpenAI's message schema (a tool message needs its tool_call_id)."""
        return [dict(m, role="user") if m["role"] == "tool" else m
                for m in conversation(n_turns)]

    async def scenario():
        strategy = SlidingWindow(ContextBudget(10_000), keep_turns=4)
        client, rt, msgs, result = await drive(cluster.url, strategy, "c-runtime",
                                               make=observations_as_user)
        try:
            record = rt.records[-1]
            assert await client.routed() and record.outcome == "ready", record
            reply = await rt.chat(result, max_tokens=2, temperature=0)
            assert reply.cached_tokens == record.prepared_tokens > 0
            home = client.homes.home("c-runtime")
            assert home in {w.url for w in cluster.workers}
            status = requests.get(f"{home}/agentrt/sessions/c-runtime", timeout=30).json()
            assert "committed" in [b["state"] for b in status["branches"]]
        finally:
            await rt.close()
            await client.close()
    asyncio.run(scenario())


@pytest.fixture(scope="module")
def program_backend(cluster):
    """SGLang's frontend backend of agentrt, pointed at the router."""
    from agentrt import frontend

    backend = frontend.AgentrtBackend(cluster.url)
    yield backend
    backend.shutdown()


def test_a_frontend_agent_commits_onto_the_branch_on_its_home_worker(cluster, program_backend):
    """An @frontend.function agent through the router: every model call carries its session's
    routing key and lands on the worker its control calls (prepare, pin) went to, so the commit
    call reuses the whole prepared branch; the session is closed there at the end."""
    from agentrt import frontend
    from agentrt.lookahead.strategies import ClearToolResults
    from agentrt.lookahead.strategy import ContextBudget

    from .test_frontend import reviewer

    program = frontend.function(reviewer, strategy=lambda: ClearToolResults(
        ContextBudget(600), keep_last=1))
    state = program.run(steps=6, backend=program_backend)
    assert state.error() is None and program_backend.routed
    report = frontend.report(state)
    home = program_backend.client.homes.home(report.session_id)
    assert home in {w.url for w in cluster.workers}
    assert [c.worker for c in report.calls] == [home]
    assert all(t.pinned is not None for t in report.tools), report.notes   # pins: on the home
    [record] = report.commits
    assert record.outcome == "ready" and record.prepared_tokens > 0
    assert report.calls[-1].cached_tokens == record.prepared_tokens
    assert not [n for n in report.notes if "moved" in n]
    assert requests.get(f"{home}/agentrt/sessions/{report.session_id}",
                        timeout=30).status_code == 404


def test_a_frontend_program_with_forks_and_select_stays_on_one_worker(cluster, program_backend):
    """Forks and select's choices (smg takes one text per /generate: sent one by one) carry the
    run's key; the main state's calls move the session's context on the home worker."""
    import sglang as sgl

    from agentrt import frontend
    from agentrt.lookahead.strategies import ClearToolResults
    from agentrt.lookahead.strategy import ContextBudget

    seen = {}

    @frontend.function(strategy=ClearToolResults(ContextBudget(4000), keep_last=1))
    def brancher(s):
        s += sgl.system("You review the repository code.")
        s += sgl.user("please answer question")
        forks = s.fork(2)
        forks += sgl.assistant(sgl.gen("idea", max_tokens=3, temperature=0))
        forks.join()
        s += sgl.assistant(sgl.select("verdict", choices=["yes", "no", "maybe"]))
        s += sgl.user("and then")
        s += sgl.assistant(sgl.gen("more", max_tokens=3, temperature=0))
        assert isinstance(s["more"], str)
        sid = frontend.report(s).session_id
        home = program_backend.client.homes.home(sid)
        seen["session"] = requests.get(f"{home}/agentrt/sessions/{sid}", timeout=60).json()

    state = brancher.run(backend=program_backend)
    assert state.error() is None, state.error()
    assert len(state["idea"]) == 2 and state["verdict"] in ("yes", "no", "maybe")
    report = frontend.report(state)
    home = program_backend.client.homes.home(report.session_id)
    assert [(c.kind, c.worker) for c in report.calls] == [("select", home), ("gen", home)]
    assert seen["session"]["context_tokens"] >= report.calls[-1].prompt_tokens
    assert report.calls[-1].cached_tokens > 0


def test_a_vanished_worker_loses_no_answer(cluster):
    """Raw requests and agentrt's client: every session of the stopped worker moves to the
    survivor, no answer is lost, and the client reopens its moved sessions there."""
    import asyncio

    asyncio.run(vanish_scenario(cluster))


async def vanish_scenario(cluster):
    from agentrt.lookahead.client import AgentrtClient

    homes, client = HomeBook(), AgentrtClient(cluster.url, timeout_s=120)
    try:
        for s in range(SESSIONS):
            resp = turn(cluster.url, f"v-{s}", SYSTEM + [s])
            homes.observe(f"v-{s}", routed_worker(resp.headers))
        kept = []                       # sessions of agentrt's client, until one is on worker 1
        for i in range(16):             # (the router places new keys by load: not alternately)
            kept.append(f"m-{i}")
            await client.open_session(kept[-1])
            if client.homes.home(kept[-1]) == cluster.workers[1].url and len(kept) >= 4:
                break
        on_gone = [sid for sid in kept if client.homes.home(sid) == cluster.workers[1].url]
        gone, survivor = cluster.kill_worker(1), cluster.workers[0].url
        moved = homes.sessions_on(gone)
        assert moved and on_gone, "no session lived on the stopped worker"
        for s in range(SESSIONS):
            sid = f"v-{s}"
            resp = turn(cluster.url, sid, SYSTEM + [s, 5, 6], retries=30)
            move = homes.observe(sid, routed_worker(resp.headers))
            assert (move is not None) == (sid in moved)
            assert routed_worker(resp.headers) == survivor
        for sid in kept:        # a moved session is reopened on its new home: no error
            reply = await client.chat([{"role": "user", "content": f"hello {sid}"}],
                                      max_tokens=1, session_id=sid, temperature=0)
            assert reply.text is not None and client.homes.home(sid) == survivor
            assert (await client.session(sid))["session_id"] == sid
    finally:
        await client.close()
