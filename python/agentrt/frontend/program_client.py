"""``ProgramClient``: the lookahead client of a frontend program.

``AgentrtClient.tokenize`` renders messages with the *served* chat template; a frontend program
renders them with its *frontend* template (``sglang.lang.chat_template``). Prepared branches must
hold the tokens the program's next call sends, so here tokenization renders with the program's
template and asks the server to tokenize that text (``/agentrt/tokenize`` with ``text``), and
branches travel as that text (``context_body``).

Behind SGLang's router the program's model calls go out through SGLang's frontend code, not
through this client: ``arrived`` is how their answers' worker reaches the client's ``HomeBook``
(the one its control calls read), so a session has one home whichever path learned it.
"""
from typing import Optional

from sglang.lang.chat_template import ChatTemplate

from agentrt.cluster.routing import Move
from agentrt.frontend.chat_format import generation_prefix, render
from agentrt.lookahead.client import AgentrtClient


class ProgramClient(AgentrtClient):
    def __init__(self, base_url: str, template: ChatTemplate, timeout_s: float = 600.0):
        super().__init__(base_url, timeout_s)
        self.template = template

    async def tokenize(self, messages: list[dict], add_generation_prompt: bool = False,
                       session_id: str | None = None) -> list[int]:
        """Overrides AgentrtClient.tokenize: the frontend template's rendering, tokenized."""
        text = render(messages, self.template)
        if add_generation_prompt:
            text += generation_prefix(messages, self.template)
        return await self.tokenize_text(text, session_id)

    def context_body(self, messages: list[dict]) -> dict:
        """Overrides AgentrtClient.context_body: a branch is the frontend template's rendering
        (the server tokenizes the text)."""
        return {"text": render(messages, self.template)}

    async def served_tokens(self, messages: list[dict]) -> list[int]:
        """``messages`` rendered with the *served* chat template, tokenized."""
        return await AgentrtClient.tokenize(self, messages)

    async def arrived(self, session_id: str, headers) -> Optional[Move]:
        """A model call of the session was answered (through the router): the worker its
        headers name is the session's home; a changed home reopens the session there (a cache
        miss) and is returned as the Move."""
        old = self.homes.home(session_id)
        await self._arrived(session_id, headers)
        new = self.homes.home(session_id)
        return Move(session_id, old, new) if old is not None and new != old else None

    async def tokenize_text(self, text: str, session_id: str | None = None) -> list[int]:
        return (await self._call("POST", "/agentrt/tokenize", {"text": text},
                                 session_id))["tokens"]

    async def pin(self, session_id: str, tool: str) -> dict:
        """Pin the session's KV while ``tool`` runs (TTL from the tool's observed durations)."""
        return await self._call("POST", f"/agentrt/sessions/{session_id}/pin", {"tool": tool},
                                session_id)
