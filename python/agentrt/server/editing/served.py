"""ServedEncoding: a conversation's token ids exactly as SGLang serves its requests.

A prepared branch must hold the tokens the trigger turn's prompt starts with, and SGLang renders a
request through its own pipeline: ``/v1/messages`` bodies are converted to chat requests first
(``AnthropicServing._convert_to_chat_completion_request``), and ``tools``, ``tool_choice`` and
template options change what the chat template renders (``OpenAIServingChat._process_messages``).
So a branch of a chat or messages conversation is tokenized by that same pipeline: the request's
own body with its messages replaced, processed as SGLang would, the generation prompt cut off the
end (``ServedEncoding``; ``ConversationOps`` is the Preparer's client that uses it). ``/generate``
prompts are rendered by agentrt itself (editor.py: ``render_prompt``), so their
branches use the plain served template (``plain``).

Rules: the rendering must end with the generation prompt the plain template appends to a probe
(what every chat template here does); otherwise ``EncodingError`` and the preparation fails (the
trigger turn takes the synchronous edit). Only this module calls SGLang's serving objects.
"""
import asyncio
from typing import Callable, Optional

from agentrt.lookahead.client import ServerError
from agentrt.server.http.tokens import encode

# body fields that do not change the rendered prompt, or that the conversion would refuse
_DROPPED = ("messages", "context_management", "stream", "stream_options", "session_id", "n")


class EncodingError(ValueError):
    """The conversation cannot be tokenized as SGLang serves it."""


def generation_suffix(tokenizer) -> list[int]:
    """The tokens the served chat template appends for the assistant's turn."""
    probe = [{"role": "user", "content": "probe"}]
    bare = encode(tokenizer, probe, None, False)
    full = encode(tokenizer, probe, None, True)
    if full[:len(bare)] != bare:
        raise EncodingError("the chat template's generation prompt is not a suffix")
    return full[len(bare):]


class ServedEncoding:
    def __init__(self, path: str, body: dict, app_state: Callable[[], object],
                 tokenizer: Callable[[], object]):
        """``path``, ``body``: a request of the conversation (its messages are replaced per
        call); ``app_state()``: SGLang's ``app.state``; ``tokenizer()``: the served one."""
        self.path = path
        self.template = {k: v for k, v in body.items() if k not in _DROPPED}
        self._state, self._tokenizer = app_state, tokenizer
        self._suffix: Optional[list[int]] = None

    @property
    def plain(self) -> bool:
        return self.path == "/generate"

    async def tokens(self, messages: list[dict]) -> list[int]:
        """Token ids of the conversation ``messages``, generation prompt excluded (in a worker
        thread: templates are CPU work)."""
        return await asyncio.to_thread(self._tokens, messages)

    def _tokens(self, messages: list[dict]) -> list[int]:
        tokenizer = self._tokenizer()
        if self.plain:
            return encode(tokenizer, messages, None, False)
        if self._suffix is None:
            self._suffix = generation_suffix(tokenizer)
        ids = self._prompt_ids(messages, tokenizer)
        cut = len(ids) - len(self._suffix)
        if cut < 0 or ids[cut:] != self._suffix:
            raise EncodingError("the served prompt does not end with the generation prompt")
        return ids[:cut]

    def _prompt_ids(self, messages: list[dict], tokenizer) -> list[int]:
        from sglang.srt.entrypoints.anthropic.protocol import AnthropicMessagesRequest
        from sglang.srt.entrypoints.openai.protocol import ChatCompletionRequest

        state = self._state()
        body = dict(self.template, messages=messages)
        try:
            if self.path == "/v1/messages":
                request = state.anthropic_serving._convert_to_chat_completion_request(
                    AnthropicMessagesRequest(**body))
            else:
                request = ChatCompletionRequest(**body)
            processed = state.openai_serving_chat._process_messages(request, False)
        except Exception as exc:  # noqa: BLE001 - SGLang's validation and templates on client data
            raise EncodingError(f"{type(exc).__name__}: {str(exc)[:200]}") from None
        ids = processed.prompt_ids
        if isinstance(ids, str):
            ids = tokenizer.encode(ids, add_special_tokens=False)
        return list(ids)


class ConversationOps:
    """The Preparer's client for one conversation: LocalOps whose branches are the conversation's
    messages tokenized as SGLang serves its requests (served.py), with the client's names."""

    def __init__(self, ops, encoding: "ServedEncoding"):
        """``ops``: LocalOps (local_ops.py)."""
        self.ops, self.encoding = ops, encoding

    async def tokenize(self, messages: list[dict], add_generation_prompt: bool = False,
                       session_id: Optional[str] = None) -> list[int]:
        try:
            return await self.encoding.tokens(messages)
        except EncodingError as exc:
            raise ServerError(400, f"not preparable: {exc}") from exc

    async def prepare(self, session_id: str, messages: list[dict], strategy: str, version: int,
                      source_signature: str, wait: bool = True, promote: bool = False,
                      window_s: Optional[float] = None,
                      later_window_s: Optional[float] = None,
                      commit_tokens: Optional[int] = None) -> dict:
        return await self.ops.prepare(session_id, await self.tokenize(messages), strategy,
                                      version, source_signature, wait, promote, window_s,
                                      later_window_s, commit_tokens)

    async def append(self, session_id: str, branch_id: str, messages: list[dict],
                     wait: bool = True, promote: bool = False) -> dict:
        return await self.ops.append(session_id, branch_id, await self.tokenize(messages), wait,
                                     promote)

    async def wait_branch(self, session_id: str, branch_id: str) -> dict:
        return await self.ops.wait_branch(session_id, branch_id)

    async def withdraw(self, session_id: str, strategy: str, version: int,
                       reason: str) -> dict:
        return await self.ops.withdraw(session_id, strategy, version, reason)

    async def promote(self, session_id: str) -> dict:
        return await self.ops.promote(session_id)
