"""@frontend.function keeps the program's signature and body; the request seam exists."""
import inspect

import sglang as sgl
from agentrt import frontend
from agentrt.frontend.function import AgentFunction
from agentrt.lookahead.strategies import SlidingWindow
from agentrt.lookahead.strategy import ContextBudget
from sglang.lang.backend.runtime_endpoint import RuntimeEndpoint

POLICY = SlidingWindow(ContextBudget(100), keep_turns=2)


def body(s, task, steps=2):
    s += sgl.user(task)


def test_decorator_on_a_plain_function_and_on_an_sgl_function():
    for program in (frontend.function(body, strategy=POLICY),
                    frontend.function(sgl.function(body), strategy=POLICY),
                    frontend.function(strategy=POLICY)(body)):
        assert isinstance(program, AgentFunction)
        assert program.body is body and program.arg_names == ["task", "steps"]
        assert program._strategy() is POLICY and program.lookahead


def test_with_policy_and_bind_keep_the_body():
    program = frontend.function(body, strategy=lambda: POLICY)
    baseline = program.with_policy(lookahead=False)
    assert baseline.body is body and not baseline.lookahead and baseline._strategy() is POLICY
    bound = program.bind(steps=5)
    assert isinstance(bound, AgentFunction) and bound.bind_arguments == {"steps": 5}
    assert bound._strategy() is POLICY


def test_on_another_backend_the_body_runs_as_plain_sglang():
    seen = []

    class State:
        stream_executor = None

    program = frontend.function(lambda s, x: seen.append((s, x)), strategy=POLICY)
    state = State()
    program.func(state, 7)
    assert seen == [(state, 7)]


def test_runtime_endpoint_builds_every_request_through_add_images():
    """The seam AgentrtBackend tags requests at: fails loudly if SGLang changes it."""
    for method in ("generate", "generate_stream", "commit_lazy_operations", "fill_image",
                   "_generate_http_request"):
        assert "self._add_images(s, data)" in inspect.getsource(getattr(RuntimeEndpoint, method))
