"""The request-id protocol of branch prefills: the rid names the branch the request prefills.

    agentrt-prepare:<branch id>:<nonce>:<session id>

The HTTP process sends each prepare / append prefill with such a rid; the tree (checkpoint) and
the scheduler (background class, fast lane) parse the branch id back. No SGLang import.
"""
from typing import Optional

PREPARE_RID_PREFIX = "agentrt-prepare:"


def prepare_rid(session_id: str, branch_id: str, nonce: str) -> str:
    """The rid of the background request that prefills a branch."""
    return f"{PREPARE_RID_PREFIX}{branch_id}:{nonce}:{session_id}"


def parse_prepare_rid(rid) -> Optional[str]:
    """The branch id a rid names; None for any other request."""
    if isinstance(rid, str) and rid.startswith(PREPARE_RID_PREFIX):
        return rid[len(PREPARE_RID_PREFIX):].split(":", 1)[0]
    return None
