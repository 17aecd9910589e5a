"""``ConversationState``: a conversation's sticky edit state, as one immutable value.

It records the history it was computed on (length and digest), the configuration, and one
decision per edit (which tool uses were cleared, which turns lost their thinking, what was
offloaded, the summary and what it covers, where the window starts). A request may reuse it
only when its history *extends* that history (same first ``length`` messages, same system /
context) under the same configuration; otherwise the conversation was edited or forked by the
client and starts from a fresh state, never from another history's decisions.
"""
from dataclasses import dataclass
from typing import Any, Optional, Sequence

from agentrt.editing.config import ContextManagement
from agentrt.lookahead.strategy import Message, signature


def history_digest(messages: Sequence[Message], end: int, system: Any = None) -> str:
    """Digest of ``messages[:end]`` and the conversation's non-message context (Anthropic's
    ``system``), reusing the client-side staleness signature."""
    return signature([{"system": system}] + list(messages[:end]))


@dataclass(frozen=True)
class ConversationState:
    length: int                     # messages of the history the decisions were made on
    digest: str                     # history_digest of those messages
    config: str                     # ContextManagement.signature
    decisions: tuple                # one per edit, in configuration order

    def extended_by(self, messages: Sequence[Message], config: ContextManagement,
                    system: Any = None) -> bool:
        """The request continues this state's conversation under the same configuration."""
        return (config.signature == self.config and len(messages) >= self.length
                and history_digest(messages, self.length, system) == self.digest)


def usable(state: Optional[ConversationState], messages: Sequence[Message],
           config: ContextManagement, system: Any = None) -> Optional[ConversationState]:
    """``state`` when the request extends it, else None (a fresh state)."""
    return state if state is not None and state.extended_by(messages, config, system) else None
