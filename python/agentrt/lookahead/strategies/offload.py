"""Offloading: tool outputs over a token limit go to an offload store on disk; the context keeps
a reference and a short digest the agent can expand again with its file-reading tool."""
import hashlib
import os
from pathlib import Path
from typing import Callable, Optional

from agentrt.lookahead.strategy import (ContextBudget, LookaheadStrategy, Transform, clone,
                                        is_tool_output)


class OffloadStore:
    """Content-addressed files under ``root`` (the same output always maps to the same file)."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def put(self, text: str) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.root / f"tool-output-{hashlib.sha256(text.encode()).hexdigest()[:16]}.txt"
        if not path.exists():
            tmp = path.with_suffix(".tmp")
            tmp.write_text(text)
            os.replace(tmp, path)
        return path

    def get(self, path: str | os.PathLike) -> str:
        target = Path(path).resolve()
        if self.root.resolve() not in target.parents:
            raise ValueError(f"{path} is not in the offload store")
        return target.read_text()


class Offload(LookaheadStrategy):
    name = "offload"

    def __init__(self, budget: ContextBudget, store: OffloadStore, limit_tokens: int = 50,
                 count_tokens: Callable[[str], int] = lambda s: len(s) // 4,
                 digest_chars: int = 160):
        super().__init__(budget)
        self.store, self.limit_tokens = store, limit_tokens
        self.count_tokens, self.digest_chars = count_tokens, digest_chars

    @property
    def segment_local(self) -> bool:
        return True     # each tool output is offloaded or kept on its own

    def reference(self, path, text: str) -> str:
        digest = " ".join(text[:self.digest_chars].split())
        return (f"[tool output offloaded to {path} ({len(text)} characters); read it with "
                f"read_file if needed. Starts: {digest} ...]")

    async def transform(self, messages, strategy_data, llm: Optional[object] = None) -> Transform:
        out = clone(messages)
        offloaded = dict(strategy_data.get("offloaded", {}))
        for m in out:
            content = m.get("content") or ""
            if is_tool_output(m) and not content.startswith("[tool output offloaded") \
                    and self.count_tokens(content) > self.limit_tokens:
                path = self.store.put(content)
                offloaded[str(path)] = len(content)
                m["content"] = self.reference(path, content)
        return Transform(out, {**strategy_data, "offloaded": offloaded})
