"""Token ids of chat messages or text under the served tokenizer (no SGLang objects)."""
from agentrt.server.http import fields as rf


def encode(tokenizer, msgs: list[dict] | None, text: str | None, generation: bool) -> list[int]:
    """Token ids of chat messages (served chat template) or of a text (no special tokens)."""
    if msgs is not None:
        try:
            text = tokenizer.apply_chat_template(msgs, tokenize=False,
                                                 add_generation_prompt=generation)
        except Exception as exc:  # noqa: BLE001 - the template is code run on client data
            raise rf.FieldError(f"the served chat template cannot render these messages: "
                                f"{type(exc).__name__}: {str(exc)[:200]}") from None
    return list(tokenizer.encode(text, add_special_tokens=False))
