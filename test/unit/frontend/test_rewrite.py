"""At a commit the program continues from the transformed context (no server)."""
from types import SimpleNamespace

from agentrt.frontend.chat_format import chat_view, render, with_tool_role
from agentrt.frontend.program import AgentProgram
from sglang.lang.chat_template import get_chat_template

CHATML = with_tool_role(get_chat_template("chatml"))


def test_rewrite_replaces_the_closed_messages_and_keeps_the_open_role():
    msgs = [{"role": "system", "content": "S"}, {"role": "tool", "content": " long output"}]
    open_role = "<|im_start|>assistant\n"
    text = render(msgs, CHATML) + open_role
    executor = SimpleNamespace(text_=text, chat_template=CHATML, cur_role_begin_pos=len(text),
                               messages_=[{"role": "system", "content": "S"},
                                          {"role": "tool", "content": "long output"}])
    view = chat_view(executor.text_, executor.messages_, CHATML)
    transformed = [{"role": "system", "content": "S"}, {"role": "tool", "content": " [cleared]"}]
    AgentProgram._rewrite(executor, view, transformed)
    assert executor.text_ == render(transformed, CHATML) + open_role
    assert executor.messages_ == [{"role": "system", "content": "S"},
                                  {"role": "tool", "content": "[cleared]"}]
    # the interpreter closes the role from cur_role_begin_pos: it still points after the prefix
    assert executor.text_[executor.cur_role_begin_pos:] == ""
    assert executor.text_[:executor.cur_role_begin_pos].endswith(open_role)
