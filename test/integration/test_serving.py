"""The real server answers /generate and /v1/chat/completions and reports prefix-cache hits."""
import requests

from agentrt.client.chat import ChatError, chat_stream


def generate(url, text, **sampling):
    body = {"text": text, "sampling_params": {"max_new_tokens": 8, "temperature": 0,
                                              "ignore_eos": True, **sampling}}
    resp = requests.post(f"{url}/generate", json=body, timeout=120)
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_generate_hits_the_cache(url):
    # (token-for-token determinism across cache states is checked on the default model in
    # test/e2e: a random-weight model's near-flat logits make greedy ties noise)
    prompt = "agent tool call result file read write list search summary " * 20
    first = generate(url, prompt)
    second = generate(url, prompt)
    assert first["meta_info"]["cached_tokens"] == 0 or first["meta_info"]["cached_tokens"] < \
        second["meta_info"]["cached_tokens"]
    assert second["meta_info"]["cached_tokens"] >= second["meta_info"]["prompt_tokens"] - 1
    assert first["meta_info"]["completion_tokens"] == 8


def test_chat_stream_measures_ttft_and_reports_cached_tokens(url):
    messages = [{"role": "system", "content": "review the repository code " * 30},
                {"role": "user", "content": "hello world"}]
    cold = chat_stream(url, messages, max_tokens=6, temperature=0)
    warm = chat_stream(url, messages, max_tokens=6, temperature=0)
    assert cold.prompt_tokens == warm.prompt_tokens > 60
    assert warm.cached_tokens >= warm.prompt_tokens - 1
    assert warm.completion_tokens == cold.completion_tokens or warm.finish_reason == "stop"
    assert 0 < warm.ttft_s <= warm.total_s


def test_oversized_prompt_is_a_clear_400(url):
    huge = [{"role": "user", "content": "token " * 9000}]
    try:
        chat_stream(url, huge, max_tokens=4)
    except ChatError as exc:
        assert "400" in str(exc) and "context length" in str(exc)
    else:
        raise AssertionError("an over-long prompt must be refused")
    # and the server is still healthy afterwards
    assert requests.get(f"{url}/health", timeout=10).status_code == 200
