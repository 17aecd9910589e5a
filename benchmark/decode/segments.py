"""Agent traces and a non-repetitive control as token segments for the offline drafter replay.

A session is a list of ``Segment``s in order: ``generated=False`` tokens enter the context as
a prompt would (system, task, tool outputs, chat headers); ``generated=True`` tokens are what
the model writes (an assistant turn's text and its end marker), replayed one verify step at a
time. Messages are rendered in ChatML (SmolLM2's template: ``<|im_start|>role\\n`` ...
``<|im_end|>\\n``) and each piece is tokenized on its own, as an agent's growing prompt is.

Control: distinct words (lower-case letters, length >= 3) gathered from the loaded traces,
shuffled with the seed; each session's context and its generated text use disjoint words and
no word appears twice anywhere, so the generated text was never seen in any context.
"""
import random
import re
from pathlib import Path
from typing import Callable, NamedTuple, Sequence

Encode = Callable[[str], list[int]]


class Segment(NamedTuple):
    tokens: tuple[int, ...]
    generated: bool


class Session(NamedTuple):
    session_id: str
    segments: tuple[Segment, ...]

    @property
    def generated_tokens(self) -> int:
        return sum(len(s.tokens) for s in self.segments if s.generated)


def default_encoder() -> Encode:
    """The default model's tokenizer (prepared on first use, ~30 s, offline)."""
    from tokenizers import Tokenizer

    from agentrt.models import model_dir, prepare_default_model

    folder = model_dir()
    if not (Path(folder) / "tokenizer.json").is_file():
        folder = prepare_default_model()
    tok = Tokenizer.from_file(str(Path(folder) / "tokenizer.json"))
    return lambda text: tok.encode(text, add_special_tokens=False).ids


def _message(encode: Encode, role: str, text: str) -> list[Segment]:
    return [Segment(tuple(encode(f"<|im_start|>{role}\n{text}<|im_end|>\n")), False)]


def trace_session(trace, encode: Encode) -> Session:
    """One AgentTrace: system + task as context, then per step the reply and the tool output."""
    segs = _message(encode, "system", trace.system) + _message(encode, "user", trace.task)
    for step in trace.steps:
        segs.append(Segment(tuple(encode("<|im_start|>assistant\n")), False))
        segs.append(Segment(tuple(encode(step.assistant + "<|im_end|>")), True))
        segs.append(Segment(tuple(encode("\n")), False))
        segs += _message(encode, "tool", step.tool_output)
    return Session(trace.agent_id, tuple(segs))


def distinct_words(texts: Sequence[str]) -> list[str]:
    seen: dict[str, None] = {}
    for text in texts:
        for word in re.findall(r"[a-z]{3,}", text.lower()):
            seen.setdefault(word, None)
    return list(seen)


def control_sessions(words: Sequence[str], encode: Encode, n_sessions: int, seed: int,
                     context_words: int = 400, turn_words: int = 120,
                     turns: int = 3) -> list[Session]:
    """Sessions whose every word is new: nothing generated was seen before (module rule)."""
    need = n_sessions * (context_words + turns * turn_words)
    if len(words) < need:
        raise ValueError(f"control needs {need} distinct words, {len(words)} available")
    pool = list(words)
    random.Random(seed).shuffle(pool)
    out = []
    for i in range(n_sessions):
        segs = _message(encode, "user", " ".join(pool[:context_words]))
        del pool[:context_words]
        for _ in range(turns):
            segs.append(Segment(tuple(encode("<|im_start|>assistant\n")), False))
            segs.append(Segment(tuple(encode(" ".join(pool[:turn_words]) + "<|im_end|>")), True))
            del pool[:turn_words]
            segs.append(Segment(tuple(encode("\n")), False))
        out.append(Session(f"control-{i}", tuple(segs)))
    return out
