"""The one parser of streamed chat completions: text, TTFT, gaps, usage, the end marker."""
import json

from agentrt.client.sse import ChatResult, ChatStream, chat_body


class Clock:
    def __init__(self):
        self.t = 10.0

    def __call__(self):
        self.t += 0.5
        return self.t


def data(obj) -> str:
    return "data: " + json.dumps(obj)


def test_stream_is_parsed_into_a_result():
    stream = ChatStream(clock=Clock())                       # started at 10.5
    lines = [": keep-alive", "",
             data({"choices": [{"delta": {"role": "assistant"}}]}),
             data({"choices": [{"delta": {"content": "Hel"}}]}),          # 11.0
             data({"choices": [{"delta": {"content": "lo"}, "finish_reason": "stop"}]}),
             data({"choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 2,
                                            "prompt_tokens_details": {"cached_tokens": 4}}}),
             "data: [DONE]"]
    assert [stream.feed(line) for line in lines] == [False] * 6 + [True]
    assert stream.error is None
    assert stream.result() == ChatResult("Hello", 0.5, 1.5, 9, 4, 2, "stop", (0.5,))


def test_error_chunk_and_missing_usage():
    stream = ChatStream(clock=Clock())
    stream.feed(data({"error": {"message": "bad"}}))
    assert stream.error == {"message": "bad"}
    result = stream.result()
    assert (result.text, result.prompt_tokens, result.cached_tokens, result.ttft_s) == \
        ("", 0, 0, result.total_s)


def test_request_body_asks_for_usage():
    body = chat_body([{"role": "user", "content": "x"}], 8, temperature=0.0)
    assert body["stream"] and body["stream_options"] == {"include_usage": True}
    assert (body["max_tokens"], body["temperature"], body["model"]) == (8, 0.0, "default")
