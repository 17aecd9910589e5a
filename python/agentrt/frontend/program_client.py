"""``ProgramClient``: the lookahead client of a frontend program.

``AgentrtClient.tokenize`` renders messages with the *served* chat template; a frontend program
renders them with its *frontend* template (``sglang.lang.chat_template``). Prepared branches must
hold the tokens the program's next call sends, so here tokenization renders with the program's
template and asks the server to tokenize that text (``/agentrt/tokenize`` with ``text``).
"""
from sglang.lang.chat_template import ChatTemplate

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

    async def tokenize_text(self, text: str, session_id: str | None = None) -> list[int]:
        return (await self._call("POST", "/agentrt/tokenize", {"text": text},
                                 session_id))["tokens"]

    async def pin(self, session_id: str, tool: str) -> dict:
        """Pin the session's KV while ``tool`` runs (TTL from the tool's observed durations)."""
        return await self._call("POST", f"/agentrt/sessions/{session_id}/pin", {"tool": tool},
                                session_id)
