"""SGLang frontend programs on the real server (tiny model): lookahead commits, tags, fork,
select, tool and server errors, sessions closed at the end.

The tiny model's logits are nearly flat, so no assertion here is on greedy *text*: the program
before the commit call is deterministic (fixed turns and tools), and the commit call is checked
by its prompt tokens, cached tokens and logprobs against HF (greedy equality with and without
lookahead is tested on the default model in test/e2e/test_frontend_default_model.py).
"""
import asyncio
import time

import pytest
import requests
import sglang as sgl
from agentrt import frontend
from agentrt.frontend.chat_format import as_interpreter_messages, render
from agentrt.lookahead.strategies import ClearToolResults
from agentrt.lookahead.strategy import ContextBudget

from .hf_reference import assert_matches_hf

WORDS = "agent tool call result file read write list search summary context window token cache"
NEW = 4


def read_chunk(i: int, chars: int = 300) -> str:
    """A deterministic 'file' (the tool also waits a little, as a real tool's run time would)."""
    time.sleep(0.3)
    words = WORDS.split()
    return " ".join(words[(i + j) % len(words)] for j in range(chars // 5))[:chars]


def explode(**_):
    raise ValueError("no such file: missing.py")


def settle(s, timeout_s: float = 30) -> None:
    """Test only: let a running catch-up land, so the branch covers every tool output (an agent
    does not wait: the commit request would prefill those last segments itself)."""
    program = getattr(s, "program", None)
    if program is not None and program.runtime is not None:
        program.loop.run(program.runtime.wait_prepared(), timeout_s=timeout_s)


@sgl.function
def reviewer(s, steps: int):
    """Fixed turns and tools, then one model call (where the policy commits)."""
    s += sgl.system("You review the repository code. " * 4)
    s += sgl.user("please answer question review repository code")
    for i in range(steps):
        s += sgl.assistant(f"call read {i}")
        s += frontend.tool_call("read", read_chunk, {"i": i})
    settle(s)
    s += sgl.user("please answer")
    s += sgl.assistant(sgl.gen("answer", max_tokens=NEW, temperature=0, ignore_eos=True,
                               return_logprob=True))


def context(steps: int) -> list[dict]:
    """reviewer's messages before its model call (it is deterministic up to there)."""
    msgs = [{"role": "system", "content": "You review the repository code. " * 4},
            {"role": "user", "content": "please answer question review repository code"}]
    for i in range(steps):
        msgs += [{"role": "assistant", "content": f"call read {i}"},
                 {"role": "tool", "content": read_chunk(i)}]
    return msgs + [{"role": "user", "content": "please answer"}]


def transformed_context(program, steps: int) -> list[dict]:
    """The policy applied synchronously to the whole context (``strategy.apply``)."""
    return asyncio.run(program._strategy().apply(context(steps), {}, None)).messages


def expected_prompt(backend, program, steps: int) -> str:
    return render(transformed_context(program, steps), backend.chat_template) + \
        "<|im_start|>assistant\n"


@pytest.fixture(scope="module")
def backend(url):
    be = frontend.AgentrtBackend(url)
    yield be
    be.shutdown()


def tokenize(url, text):
    resp = requests.post(f"{url}/agentrt/tokenize", json={"text": text}, timeout=60)
    return resp.json()["tokens"]


def assert_released(url, report):
    assert report.closed
    assert requests.get(f"{url}/agentrt/sessions/{report.session_id}",
                        timeout=60).status_code == 404
    snap = requests.get(f"{url}/agentrt/radix", timeout=60).json()
    assert not [b for b in snap["branches"] if b["session_id"] == report.session_id
                and b["state"] in ("preparing", "ready")]
    assert snap["pins"] == [] or all(p["session_id"] != report.session_id
                                     for p in snap["pins"])
    assert requests.get(f"{url}/agentrt/radix/integrity", timeout=60).json() == {"ok": True}


def test_commit_sends_the_synchronous_prompt_over_the_prepared_kv(url, backend, hf_model):
    steps = 6
    program = frontend.function(reviewer, strategy=lambda: ClearToolResults(
        ContextBudget(600), keep_last=1))
    runs = {}
    for lookahead in (False, True):
        state = program.with_policy(lookahead=lookahead).run(steps=steps, backend=backend)
        assert state.error() is None
        runs[lookahead] = (state, frontend.report(state))
    (_, sync), (state, la) = runs[False], runs[True]
    assert [r.outcome for r in sync.commits] == ["sync"]
    assert [r.outcome for r in la.commits] == ["ready"], la.commits
    # the prompt is the policy's transform of the context, computed ahead of time or not
    # (clearing is segment-local: a prepared commit equals the synchronous one)
    record = la.commits[0]
    assert 0 < record.segment_end < len(context(steps))
    assert la.calls[-1].prompt == sync.calls[-1].prompt == expected_prompt(backend, program, steps)
    ids = tokenize(url, la.calls[-1].prompt)
    assert la.calls[-1].prompt_tokens == len(ids)
    # ... and with lookahead it reuses the whole prepared branch
    assert la.calls[-1].commit == 0 and record.prepared_tokens > 0
    # (the synchronous run, first, left the same prompt in the tree: the request may hit past
    # the branch into it)
    assert record.cached_tokens == la.calls[-1].cached_tokens >= record.prepared_tokens
    # the branch ends where the kept tool output (the last one) begins: it is not final before
    # the commit, so the commit request prefills it and the question
    new = f"<|im_start|>tool\n{read_chunk(steps - 1)}<|im_end|>\n" \
        "<|im_start|>user\nplease answer<|im_end|>\n<|im_start|>assistant\n"
    assert record.prepared_tokens == len(ids) - len(tokenize(url, new))
    assert sync.calls[-1].cached_tokens < record.prepared_tokens
    # the program continues from the transformed messages
    messages = state.messages()
    assert messages[3]["content"] == "[old tool result cleared]"
    assert messages[:-1] == as_interpreter_messages(transformed_context(program, steps))
    # exactness: the answer's logprobs equal a full HF prefill of the same prompt
    out = state.get_meta_info("answer")["output_token_logprobs"]
    out_ids, out_lp = [t for _, t, _ in out], [lp for lp, _, _ in out]
    assert len(out_ids) == NEW
    assert_matches_hf(hf_model, ids, len(ids) - 1, [], out_ids, out_lp)
    for report in (sync, la):
        assert [t.name for t in report.tools] == ["read"] * steps
        assert all(t.error is None and t.duration_s >= 0.3 for t in report.tools)
        assert_released(url, report)


def test_fork_and_select_still_work_and_are_tagged(url, backend):
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
        assert isinstance(s["more"], str)      # waits for the call
        sid = frontend.report(s).session_id
        seen["session"] = requests.get(f"{url}/agentrt/sessions/{sid}", timeout=60).json()

    state = brancher.run(backend=backend)
    assert state.error() is None
    assert len(state["idea"]) == 2 and all(isinstance(t, str) for t in state["idea"])
    assert state["verdict"] in ("yes", "no", "maybe")
    report = frontend.report(state)
    assert [c.kind for c in report.calls] == ["select", "gen"]
    # the main state's requests moved the server's session context; the forks' did not
    last = report.calls[-1]
    assert seen["session"]["context_tokens"] >= last.prompt_tokens
    assert last.cached_tokens > 0
    assert_released(url, report)


def test_a_tool_that_raises_becomes_a_tool_error_message(url, backend):
    @frontend.function(strategy=ClearToolResults(ContextBudget(4000)))
    def careless(s):
        s += sgl.user("read the file")
        s += sgl.assistant("call read missing.py")
        s += frontend.tool_call("read", explode, {})
        s += sgl.assistant(sgl.gen("after", max_tokens=2, temperature=0))

    state = careless.run(backend=backend)
    assert state.error() is None and isinstance(state["after"], str)
    report = frontend.report(state)
    assert report.tools[0].error == "ValueError: no such file: missing.py"
    assert {"role": "tool", "content": "error: ValueError: no such file: missing.py"} in \
        state.messages()
    assert_released(url, report)


def test_a_server_error_raises_a_program_error_and_closes_the_session(url, backend):
    @frontend.function(strategy=ClearToolResults(ContextBudget(4000)))
    def bad_request(s):
        s += sgl.user("hello")
        s += sgl.assistant(sgl.gen("x", max_tokens=2, temperature=-3.0))
        return s["x"]

    started = time.monotonic()
    with pytest.raises(frontend.ProgramError, match="bad_request.*temperature"):
        bad_request.run(backend=backend)
    assert time.monotonic() - started < 60
    reports = list(backend.reports.values())
    assert reports[-1].program == "bad_request"
    assert_released(url, reports[-1])


def test_a_session_lost_mid_program_is_not_fatal(url, backend):
    lost = {}

    @frontend.function(strategy=ClearToolResults(ContextBudget(100), keep_last=0))
    def forgetful(s):
        s += sgl.system("You review the repository code.")
        s += sgl.user("please answer question")
        s += sgl.assistant(sgl.gen("a", max_tokens=2, temperature=0))
        assert isinstance(s["a"], str)     # the session is open now; the server forgets it
        lost["status"] = requests.delete(f"{url}/agentrt/sessions/"
                                         f"{frontend.report(s).session_id}", timeout=60).status_code
        s += frontend.tool_call("read", read_chunk, {"i": 1})
        s += sgl.assistant(sgl.gen("b", max_tokens=2, temperature=0))

    state = forgetful.run(backend=backend)
    assert lost["status"] == 200
    assert state.error() is None and isinstance(state["b"], str)
    report = frontend.report(state)
    assert any("pin for read" in n and "404" in n for n in report.notes), report.notes
    # (the commit follows its boundary at once: it may take the transform before the branch)
    assert report.commits and report.commits[0].outcome in ("fallback", "ready", "promoted",
                                                            "deferred")
    assert "[old tool result cleared]" in report.calls[-1].prompt
    assert_released(url, report)


def test_a_plain_sgl_program_runs_on_the_backend(backend):
    @sgl.function
    def plain(s):
        s += sgl.user("hello")
        s += sgl.assistant(sgl.gen("x", max_tokens=2, temperature=0))

    state = plain.run(backend=backend)
    assert state.error() is None and isinstance(state["x"], str)
    assert frontend.report(state) is None
