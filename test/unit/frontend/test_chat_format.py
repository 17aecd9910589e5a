"""Program text <-> exact chat messages with a frontend chat template (no server)."""
from agentrt.frontend.chat_format import (
    ChatView,
    as_interpreter_messages,
    chat_view,
    generation_prefix,
    render,
    with_tool_role,
)
from sglang.lang.chat_template import get_chat_template

CHATML = with_tool_role(get_chat_template("chatml"))


def test_tool_role_is_shaped_like_the_user_role():
    assert CHATML.role_prefix_and_suffix["tool"] == ("<|im_start|>tool\n", "<|im_end|>\n")
    assert get_chat_template("chatml").role_prefix_and_suffix.get("tool") is None  # unchanged
    assert with_tool_role(CHATML) is CHATML


def test_render_is_what_the_interpreter_writes():
    msgs = [{"role": "system", "content": "S"}, {"role": "user", "content": "U"},
            {"role": "tool", "content": "T"}]
    assert render(msgs, CHATML) == ("<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU"
                                    "<|im_end|>\n<|im_start|>tool\nT<|im_end|>\n")
    assert generation_prefix(msgs, CHATML) == "<|im_start|>assistant\n"


def test_view_recovers_exact_contents_and_the_open_role():
    # the interpreter left-strips contents in messages_; the text keeps the whitespace
    text = ("<|im_start|>system\n  be brief<|im_end|>\n<|im_start|>user\n\nhi<|im_end|>\n"
            "<|im_start|>assistant\nHel")
    stripped = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]
    view = chat_view(text, stripped, CHATML)
    assert view == ChatView([{"role": "system", "content": "  be brief"},
                             {"role": "user", "content": "\nhi"}], text.index("<|im_start|>a"))
    assert render(view.messages, CHATML) == text[:view.closed_end]
    assert as_interpreter_messages(view.messages) == stripped


def test_empty_contents_and_contents_containing_the_suffix():
    msgs = [{"role": "user", "content": ""}, {"role": "tool", "content": "a<|im_end|>b"}]
    text = render(msgs, CHATML)
    assert chat_view(text, msgs, CHATML) == ChatView(msgs, len(text))


def test_text_that_is_not_a_chat_has_no_view():
    msgs = [{"role": "user", "content": "hi"}]
    assert chat_view("Question: " + render(msgs, CHATML), msgs, CHATML) is None
    assert chat_view(render(msgs, CHATML).replace("hi", "ho"), msgs, CHATML) is None
    images = [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]
    assert chat_view("<|im_start|>user\nhi<|im_end|>\n", images, CHATML) is None
