"""``edit_conversation``: the one call a request middleware makes.

    config = parse_context_management(body["context_management"])      # 400 on a bad value
    key = conversation_key(session_id=..., routing_key=..., user_id=..., messages=..., system=...)
    result = await edit_conversation(store, key, body["messages"], config, fmt="anthropic",
                                     count_tokens=..., summarizer=..., offload_store=...)
    body["messages"] = result.messages      # response: result.context_management

Reads the conversation's state (only when the history extends it), applies the edits, stores
the new state. On ``EditFailed`` nothing is stored and the caller serves the request unedited.
"""
from typing import Any, Optional, Sequence

from agentrt.editing.config import ContextManagement
from agentrt.editing.engine import EditResult, Summarizer, apply_context_management
from agentrt.editing.store import ConversationStore
from agentrt.editing.work import CountTokens, OffloadSink
from agentrt.lookahead.strategy import Message


async def edit_conversation(store: ConversationStore, key: str, messages: Sequence[Message],
                            config: ContextManagement, *, fmt: str, count_tokens: CountTokens,
                            summarizer: Optional[Summarizer] = None,
                            offload_store: Optional[OffloadSink] = None,
                            system: Any = None) -> EditResult:
    state = store.lookup(key, messages, config, system)
    result = await apply_context_management(messages, config, state, fmt=fmt,
                                            count_tokens=count_tokens, summarizer=summarizer,
                                            offload_store=offload_store, system=system)
    store.put(key, result.state)
    return result
