"""The edit types, by ``type`` (a registry, not an if/elif chain).

| type                       | origin    | trigger               | decomposable per message |
|----------------------------|-----------|-----------------------|--------------------------|
| ``clear_thinking_20251015``  | Anthropic | none (every request)  | yes                      |
| ``clear_tool_uses_20250919`` | Anthropic | input tokens / uses   | yes                      |
| ``offload``                  | agentrt   | optional input tokens | yes                      |
| ``summarize``                | agentrt   | tokens / messages     | no (whole prefix)        |
| ``sliding_window``           | agentrt   | input tokens          | no (whole prefix)        |
"""
from typing import Any, Callable, NamedTuple, Optional

from agentrt.editing.edits import (clear_thinking, clear_tool_uses, offload, sliding_window,
                                   summarize)


class EditKind(NamedTuple):
    type: str
    parse: Callable[[dict, str], Any]       # (raw edit, its field path) -> spec
    apply: Callable                         # (work, spec, decision, ctx) -> Step
    empty: Any                              # the decision of a fresh conversation
    unsettled: Optional[Callable]           # decomposable kinds (an edited message depends
                                            # only on that message): (work, spec, decision,
                                            # ctx) -> the first message a later request may
                                            # still change; None: needs the whole prefix

    @property
    def decomposable(self) -> bool:
        return self.unsettled is not None


EDIT_KINDS: dict[str, EditKind] = {k.type: k for k in (
    EditKind(clear_thinking.TYPE, clear_thinking.parse, clear_thinking.apply,
             clear_thinking.Stripped(), clear_thinking.unsettled),
    EditKind(clear_tool_uses.TYPE, clear_tool_uses.parse, clear_tool_uses.apply,
             clear_tool_uses.Cleared(), clear_tool_uses.unsettled),
    EditKind(offload.TYPE, offload.parse, offload.apply, offload.Offloaded(), offload.unsettled),
    EditKind(summarize.TYPE, summarize.parse, summarize.apply, summarize.Summary(), None),
    EditKind(sliding_window.TYPE, sliding_window.parse, sliding_window.apply,
             sliding_window.Window(), None),
)}
