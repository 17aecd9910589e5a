"""The scheduler's last line: a request whose prompt would crash the model is aborted alone.

AROUND hook on ``sglang.srt.managers.scheduler.validate_input_length``, the check SGLang runs on
every new request before it is queued; an error it returns makes SGLang abort that request with
the message (as for an over-long prompt) while the server keeps serving. agentrt adds the rule of
``prompt_checks.prompt_error`` to it. SGLang offers no per-request hook around the forward pass
itself, so a failure there still ends the scheduler: hence the guards at the edge and here, before
a request is ever batched.
"""
from agentrt.server.http.prompt_checks import prompt_error


def around_validate_input_length(original, req, *args, **kwargs):
    """SGLang's own verdict first; then agentrt's (an empty prompt, ids outside the vocab)."""
    error = original(req, *args, **kwargs)
    if error:
        return error
    return prompt_error(req.origin_input_ids, req.vocab_size)
