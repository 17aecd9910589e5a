"""JSON schemas of agentrt's request bodies, published in the server's OpenAPI document.

They document the API and let an API fuzzer (schemathesis, in the integration tests) generate
valid and invalid bodies. The routes do not rely on them: ``fields.py`` validates every
body itself, with the same rules and messages naming the field.
"""
ID = {"type": "string", "pattern": "^[A-Za-z0-9_.:@=+-]{1,128}$"}
TOKENS = {"type": "array", "items": {"type": "integer", "minimum": 0}}
MESSAGES = {"type": "array", "items": {
    "type": "object", "required": ["role", "content"],
    "properties": {"role": {"type": "string"}, "content": {"type": "string"}}}}
NAME = {"type": "string", "minLength": 1, "maxLength": 256}
CONTENT = {"tokens": TOKENS, "messages": MESSAGES, "text": {"type": "string"}}

OPEN_SESSION = {"type": "object", "required": ["session_id"],
                "properties": {"session_id": ID, **CONTENT}}
PREPARE = {"type": "object", "required": ["strategy", "version"],
           "properties": {**CONTENT, "strategy": NAME,
                          "version": {"type": "integer", "minimum": 0},
                          "source_signature": NAME, "wait": {"type": "boolean"},
                          "promote": {"type": "boolean"},
                          "window_s": {"type": "number", "minimum": 0},
                          "later_window_s": {"type": "number", "minimum": 0},
                          "commit_tokens": {"type": "integer", "minimum": 0}}}
APPEND = {"type": "object", "properties": {**CONTENT, "wait": {"type": "boolean"}}}
ABANDON = {"type": "object", "properties": {"reason": NAME}}
WITHDRAW = {"type": "object", "required": ["strategy", "version"],
            "properties": {"strategy": NAME, "version": {"type": "integer", "minimum": 0},
                           "reason": NAME}}
PIN = {"type": "object", "properties": {"tool": NAME, "ttl_s": {"type": "number", "minimum": 0}}}
TOKENIZE = {"type": "object", "properties": {"messages": MESSAGES, "text": {"type": "string"},
                                             "add_generation_prompt": {"type": "boolean"}}}
SNAPSHOT = {"type": "object", "required": ["nodes"], "properties": {"nodes": {"type": "array"}}}


def body(schema: dict) -> dict:
    """``openapi_extra`` for a route whose JSON body follows ``schema``."""
    return {"requestBody": {"required": False,
                            "content": {"application/json": {"schema": schema}}}}
