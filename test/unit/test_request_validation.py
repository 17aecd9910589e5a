"""The validation layer (request_fields, prompt_checks, agent_fields): exact verdicts, and
property-based searches (hypothesis) for any input that escapes as something else than a 4xx."""
import json
import math

import pytest
from hypothesis import given, settings, strategies as st

from agentrt.server.http import agent_fields, fields as rf
from agentrt.server.http.prompt_checks import check_generation_body, prompt_error
from agentrt.server.http.guard import json_depth, parse_body

LIMITS = rf.Limits(vocab_size=100, max_tokens=10)
JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False,
                    allow_infinity=False) | st.text(max_size=8),
                    lambda kids: st.lists(kids, max_size=4)
                    | st.dictionaries(st.text(max_size=6), kids, max_size=4), max_leaves=20)


@pytest.mark.parametrize("value, kind, ok", [
    (1, int, True), (True, int, False), (1.5, int, False), (1, float, True),
    (float("nan"), float, False), (float("inf"), float, False), ("x", str, True),
    (None, str, False), ([1], list, True), ({}, dict, True)])
def test_value_of_types_and_finiteness(value, kind, ok):
    if ok:
        assert rf.value_of("f", value, kind) == value
    else:
        with pytest.raises(rf.FieldError, match="field 'f'"):
            rf.value_of("f", value, kind)


def test_minimum_is_named():
    with pytest.raises(rf.FieldError, match="'ttl_s' must be >= 0"):
        rf.field({"ttl_s": -1}, "ttl_s", float, None, minimum=0)
    assert rf.field({}, "ttl_s", float, None, minimum=0) is None


@pytest.mark.parametrize("value, ok", [
    ("agent-1", True), ("a" * 128, True), ("a" * 129, False), ("a/b", False), ("", False),
    ("s p", False), ("x:y@z.w=1+2_3", True), (5, False), ("é", False)])
def test_identifier_alphabet(value, ok):
    if ok:
        assert rf.identifier("session_id", value) == value
    else:
        with pytest.raises(rf.FieldError, match="'session_id' must be 1-128 characters"):
            rf.identifier("session_id", value)


@pytest.mark.parametrize("tokens, error", [
    ([0, 99], None), ([], None), ([-1], "token id -1"), ([100], "token id 100"),
    ([1] * 11, "has 11 tokens"), ([1, True], "integer token ids"), ("12", "integer token ids")])
def test_tokens_in_range(tokens, error):
    if error is None:
        assert rf.tokens_in_range("tokens", tokens, LIMITS) == tokens
    else:
        with pytest.raises(rf.FieldError, match=error):
            rf.tokens_in_range("tokens", tokens, LIMITS)


def test_too_many_tokens_is_413():
    with pytest.raises(rf.TooLarge) as info:
        rf.tokens_in_range("tokens", [1] * 11, LIMITS)
    assert info.value.status == 413


@pytest.mark.parametrize("path, body, error", [
    ("/generate", {"input_ids": [-1, 2]}, "token id -1"),
    ("/generate", {"input_ids": [1, 100]}, "token id 100"),
    ("/generate", {"input_ids": [[1, 2], [100]]}, r"input_ids\[1\]"),
    ("/generate", {"input_ids": [[1, 2], []]}, r"input_ids\[1\]' must not be empty"),
    ("/generate", {"input_ids": []}, "must not be empty"),
    ("/generate", {"text": ""}, "'text' must not be empty"),
    ("/generate", {"text": ["hi", ""]}, r"'text\[1\]' must not be empty"),
    ("/generate", {"text": "hi"}, None),
    ("/generate", {"input_ids": [1, 2, 3]}, None),
    ("/v1/completions", {"prompt": [-5]}, "token id -5"),
    ("/v1/completions", {"prompt": [[3], [100000]]}, "token id 100000"),
    ("/v1/completions", {"prompt": ""}, "'prompt' must not be empty"),
    ("/v1/completions", {"prompt": "hello"}, None),
    ("/v1/chat/completions", {"messages": []}, None)])   # SGLang answers that one itself
def test_generation_prompts(path, body, error):
    if error is None:
        check_generation_body(path, body, LIMITS)
    else:
        with pytest.raises(rf.FieldError, match=error):
            check_generation_body(path, body, LIMITS)


def test_prompt_error_in_the_scheduler():
    assert prompt_error([], 100) == "the prompt is empty (no input tokens)"
    assert "token id 100" in prompt_error([1, 100], 100)
    assert "token id -3" in prompt_error([-3, 1], 100)
    assert prompt_error([0, 99], 100) is None


@pytest.mark.parametrize("body, error", [
    ({"agent_hints": {"step_index": -1}}, "'agent_hints.step_index' must be >= 0"),
    ({"agent_hints": {"cache_ttl_ms": -5.0}}, "'agent_hints.cache_ttl_ms' must be >= 0"),
    ({"slo_ttft_ms": float("nan")}, "'slo_ttft_ms' must be a finite number"),
    ({"slo_tbt_ms": float("inf")}, "'slo_tbt_ms' must be a finite number"),
    ({"program_id": "a/b"}, "'program_id' must be 1-128 characters"),
    ({"agent_hints": {"workflow_id": "x" * 200}}, "'agent_hints.workflow_id'"),
    ({"agent_hints": {"children_step_ids": [1]}}, "'agent_hints.children_step_ids'"),
    ({"agent_hints": {"tool_name": ""}}, "'agent_hints.tool_name' must be 1-256")])
def test_agent_fields_refused(body, error):
    with pytest.raises(rf.FieldError, match=error.replace(".", r"\.")):
        agent_fields.extract(body)


@pytest.mark.parametrize("raw, error", [
    (b"[1]", "must be a JSON object"), (b"5", "must be a JSON object"),
    (b'"s"', "must be a JSON object"), (b"{", "not valid JSON"),
    (b'{"a": NaN}', "not valid JSON"), (b'{"a": Infinity}', "not valid JSON"),
    (b'{"a": 1e999}', "not valid JSON"), (b"[" * 100000 + b"]" * 100000, "deeper than"),
    (b'{"a":' * 70 + b"1" + b"}" * 70, "deeper than")])
def test_parse_body_refuses(raw, error):
    with pytest.raises(rf.FieldError, match=error):
        parse_body(raw, max_depth=64, need_object=True)


def test_parse_body_accepts():
    assert parse_body(b"  ", 64, True) is None
    assert parse_body(b'{"a": [1, {"b": 2}]}', 64, True) == {"a": [1, {"b": 2}]}
    assert parse_body(b"[1]", 64, need_object=False) == [1]
    assert json_depth({"a": [1, {"b": []}]}) == 4 and json_depth(3) == 0


@settings(max_examples=300, deadline=None)
@given(JSON)
def test_any_json_body_gets_a_verdict(value):
    """Whatever JSON a client sends, every layer answers with a value or a FieldError."""
    raw = json.dumps(value).encode()
    try:
        body = parse_body(raw, max_depth=64, need_object=True)
    except rf.FieldError:
        return
    for path in ("/generate", "/v1/completions", "/v1/chat/completions"):
        try:
            clean, _ = agent_fields.extract(body)
            check_generation_body(path, clean, LIMITS)
        except rf.FieldError:
            pass
    for name, kind in (("tokens", list), ("ttl_s", float), ("version", int), ("wait", bool)):
        try:
            rf.field(body, name, kind, None)
            rf.token_list(body, limits=LIMITS)
            rf.messages(body)
        except rf.FieldError:
            pass


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(sorted(agent_fields._TOP) + ["agent_hints"]),
                       JSON | st.dictionaries(st.sampled_from(sorted(agent_fields._HINTS)), JSON,
                                              max_size=4), max_size=5))
def test_agent_fields_either_refused_or_valid(body):
    """Accepted agent fields are always well-typed, finite and in range."""
    try:
        _, fields = agent_fields.extract(body)
    except rf.FieldError:
        return
    for key, value in {**fields.values, **fields.hints}.items():
        if isinstance(value, float):
            assert math.isfinite(value)
        if key in agent_fields._NON_NEGATIVE:
            assert value >= 0
    if fields.group_id is not None:
        assert rf.identifier("id", fields.group_id)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=-2**70, max_value=2**70), max_size=12))
def test_token_verdict_matches_the_rule(tokens):
    ok = len(tokens) <= 10 and all(0 <= t < 100 for t in tokens)
    try:
        rf.tokens_in_range("tokens", tokens, LIMITS)
        assert ok
    except rf.FieldError:
        assert not ok


@pytest.mark.parametrize("path, body, error", [
    ("/generate", {"sampling_params": {"top_k": 10**12}}, r"'sampling_params.top_k' must be in \[-1, 100\]"),
    ("/generate", {"sampling_params": [{"top_k": 5}, {"top_k": 101}]}, r"sampling_params\[1\].top_k"),
    ("/generate", {"return_logprob": True, "top_logprobs_num": 10**9}, "'top_logprobs_num'"),
    ("/generate", {"return_logprob": True, "top_logprobs_num": [1, -2]}, "'top_logprobs_num'"),
    ("/generate", {"return_logprob": True, "logprob_start_len": -5}, "'logprob_start_len' must be >= -1"),
    ("/generate", {"input_ids": [1], "rid": ["a", "b"]}, "'rid' must be a string"),
    ("/generate", {"rid": 5}, "'rid' must be a string"),
    ("/v1/chat/completions", {"logprobs": True, "top_logprobs": 10**6}, "'top_logprobs'"),
    ("/v1/completions", {"logprobs": 101}, "'logprobs'"),
    ("/v1/messages", {"top_k": 10**6}, "'top_k' must be in"),
    ("/generate", {"sampling_params": {"top_k": -1}}, None),
    ("/generate", {"sampling_params": {"top_k": 100}, "logprob_start_len": -1}, None),
    ("/generate", {"input_ids": [[1], [2]], "rid": ["a", "b"]}, None),
    ("/v1/chat/completions", {"logprobs": True, "top_logprobs": 5}, None)])
def test_sampling_counts_within_the_vocabulary(path, body, error):
    from agentrt.server.http.prompt_checks import check_sampling
    if error is None:
        check_sampling(path, body, LIMITS)
    else:
        with pytest.raises(rf.FieldError, match=error):
            check_sampling(path, body, LIMITS)


class _Req:
    def __init__(self, ids, vocab):
        self.origin_input_ids, self.vocab_size = ids, vocab


def test_scheduler_guard_adds_agentrt_rule_after_sglang():
    from agentrt.server.scheduling.guard import around_validate_input_length as guard

    def sglang(req, max_len, truncate):
        return "too long" if len(req.origin_input_ids) >= max_len else None

    assert guard(sglang, _Req([1, 2], 100), 10, False) is None
    assert guard(sglang, _Req([1] * 20, 100), 10, False) == "too long"    # SGLang's verdict first
    assert guard(sglang, _Req([], 100), 10, False) == "the prompt is empty (no input tokens)"
    assert "token id 100" in guard(sglang, _Req([5, 100], 100), 10, False)


def test_guard_hook_table_resolves():
    from agentrt.server.launch import plugin

    for target, hook, kind in plugin.GUARD_HOOKS:
        module, _, attr = target.rpartition(".")
        assert plugin.resolve(f"{module}:{attr}") and plugin.resolve(hook) and kind == "AROUND"
