"""Generation requests SGLang's scheduler cannot run, refused before they reach it (pure).

SGLang 0.5.23 hands an empty prompt, or token ids out of vocabulary, to the model, whose
embedding lookup raises inside the scheduler process: the scheduler dies and the whole server
with it. Two guards, one rule (a prompt is a non-empty list of ids in ``[0, vocab_size)``):
  - at the HTTP edge (``guard.py``), ``check_generation_body`` answers 400 naming the
    field, for ``/generate`` (``text``, ``input_ids``, single or batched) and ``/v1/completions``
    (``prompt`` as text or token ids);
  - in the scheduler (``scheduling/guard.py``), ``prompt_error`` aborts any request that still
    carries such a prompt (e.g. a text that tokenizes to nothing) with an error, the way SGLang
    aborts an over-long prompt, and the server keeps serving.
Counts that size a top-k over the vocabulary (``top_k``, ``top_logprobs_num``, the OpenAI APIs'
``top_logprobs`` / ``logprobs``) crash the scheduler too when they exceed the vocabulary, and a
``logprob_start_len`` below -1 does: ``check_sampling`` refuses them at the edge (there is no
per-request hook for them in the scheduler).
"""
from typing import Any, Optional, Sequence

from agentrt.server.http.fields import FieldError, Limits, tokens_in_range

GENERATION_PATHS = frozenset({"/generate", "/v1/completions", "/v1/chat/completions",
                              "/v1/messages"})


def prompt_error(input_ids: Sequence[int], vocab_size: Optional[int]) -> Optional[str]:
    """Why the scheduler must not run this prompt, or None when it may."""
    if len(input_ids) == 0:
        return "the prompt is empty (no input tokens)"
    if vocab_size is not None:
        low, high = min(input_ids), max(input_ids)
        if low < 0 or high >= vocab_size:
            bad = low if low < 0 else high
            return f"token id {bad} is out of vocabulary [0, {vocab_size})"
    return None


def _is_token_batch(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, list) for v in value)


def _check_ids(name: str, value: Any, limits: Limits) -> None:
    rows = value if _is_token_batch(value) else [value]
    for i, row in enumerate(rows):
        label = f"{name}[{i}]" if rows is value else name
        tokens_in_range(label, row, Limits(limits.vocab_size), allow_empty=False)


def _check_texts(name: str, value: Any) -> None:
    texts = value if isinstance(value, list) else [value]
    for i, text in enumerate(texts):
        label = f"{name}[{i}]" if texts is value else name
        if not isinstance(text, str):
            raise FieldError(f"field '{label}' must be a string")
        if not text:
            raise FieldError(f"field '{label}' must not be empty")


def check_generation_body(path: str, body: dict, limits: Limits) -> None:
    """Raise FieldError for a prompt the scheduler cannot run (see the module's rule)."""
    if path == "/generate":
        if body.get("input_ids") is not None:
            _check_ids("input_ids", body["input_ids"], limits)
        elif body.get("text") is not None:
            _check_texts("text", body["text"])
    elif path == "/v1/completions":
        prompt = body.get("prompt")
        if isinstance(prompt, list) and prompt and all(type(t) is int for t in prompt) \
                or _is_token_batch(prompt):
            _check_ids("prompt", prompt, limits)
        elif prompt is not None and not (isinstance(prompt, list) and not prompt):
            _check_texts("prompt", prompt)


# (field, where) -> the count must lie in [low, vocab_size]; -1 is SGLang's "off" for top_k
_TOP_COUNTS = {"/generate": (("sampling_params", "top_k", -1), ("", "top_logprobs_num", 0)),
               "/v1/completions": (("", "top_k", -1), ("", "logprobs", 0)),
               "/v1/chat/completions": (("", "top_k", -1), ("", "top_logprobs", 0)),
               "/v1/messages": (("", "top_k", -1),)}


def _values(body: dict, where: str, key: str):
    """(label, value) of ``key`` at the top level or in each of ``where`` (dict or batch list)."""
    holders = [body] if not where else ([body.get(where)] if not isinstance(body.get(where), list)
                                        else body[where])
    for i, holder in enumerate(holders):
        if isinstance(holder, dict) and holder.get(key) is not None:
            prefix = "" if not where else (f"{where}[{i}]." if isinstance(body[where], list)
                                           else f"{where}.")
            yield prefix + key, holder[key]


def check_sampling(path: str, body: dict, limits: Limits) -> None:
    """Raise FieldError for a top-k count beyond the vocabulary or a logprob start below -1."""
    for where, key, low in _TOP_COUNTS.get(path, ()):
        for label, value in _values(body, where, key):
            counts = value if isinstance(value, list) else [value]
            for count in counts:
                if type(count) is int and (count < low or (limits.vocab_size is not None
                                                           and count > limits.vocab_size)):
                    raise FieldError(f"field '{label}' must be in [{low}, {limits.vocab_size}]")
    if path == "/generate":
        for label, value in _values(body, "", "logprob_start_len"):
            if any(type(v) is int and v < -1 for v in (value if isinstance(value, list)
                                                        else [value])):
                raise FieldError(f"field '{label}' must be >= -1")
        rid = body.get("rid")
        batch = isinstance(body.get("text"), list) or _is_token_batch(body.get("input_ids"))
        if rid is not None and not (isinstance(rid, str) or (
                batch and isinstance(rid, list) and all(isinstance(r, str) for r in rid))):
            raise FieldError("field 'rid' must be a string (a list of strings for a batch)")
