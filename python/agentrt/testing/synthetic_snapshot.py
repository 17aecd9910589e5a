"""A large radix snapshot without a server: what `visualize.snapshot()` returns for a busy tree.

``synthetic_snapshot(n)`` builds ``n`` nodes (root included): a fan of shared prefixes whose
subtrees split again, each node with a deterministic token count and preview, and, on the last
leaf, one session with a ready branch and a pinned head, so the view's tagged paths are deep.
Deterministic: the same ``n`` gives the same snapshot.
"""


def synthetic_snapshot(n: int, fanout: int = 8) -> dict:
    if n < 4:
        raise ValueError("a synthetic snapshot needs at least 4 nodes")
    nodes = [{"id": 0, "parent": None, "depth": 0, "tokens": 0, "preview_ids": [],
              "preview": "", "lock_ref": 1, "protected": False, "discarded": False,
              "children": 0}]
    for i in range(1, n):
        parent = (i - 1) // fanout
        tokens = 1 + (i * 37) % 700
        nodes.append({"id": i, "parent": parent, "depth": nodes[parent]["depth"] + 1,
                      "tokens": tokens, "preview_ids": [i % 500 + k for k in range(min(tokens, 24))],
                      "preview": f"segment {i} of the synthetic agent trace", "lock_ref": 0,
                      "protected": False, "discarded": False, "children": 0})
        nodes[parent]["children"] += 1
    head, branch_end = n - 1, n - 2
    for i in (head, branch_end):
        j = i
        while j is not None:
            nodes[j]["lock_ref"] += 1
            nodes[j]["protected"] = j != 0
            j = nodes[j]["parent"]
    fork = sum(nodes[j]["tokens"] for j in _path(nodes, nodes[branch_end]["parent"]))
    return {
        "page_size": 1,
        "sizes": {"evictable": sum(x["tokens"] for x in nodes if not x["protected"]),
                  "protected": sum(x["tokens"] for x in nodes if x["protected"]),
                  "total": sum(x["tokens"] for x in nodes), "held_by_lookahead": 0, "budget": 0},
        "nodes": nodes,
        "sessions": [{"id": "synthetic", "context_tokens": 0, "head": head, "branches": ["b1"]}],
        "branches": [{"id": "b1", "session_id": "synthetic", "strategy": "summary", "version": 1,
                      "source_signature": "", "state": "ready",
                      "tokens": fork + nodes[branch_end]["tokens"], "fork_len": fork,
                      "protected": True, "catching_up": False, "history": [],
                      "node": branch_end, "end_node": branch_end}],
        "pins": [{"session_id": "synthetic", "tokens": 0, "reason": "tool:bash", "tool": "bash",
                  "ttl_remaining_s": 30.0, "node": head}],
    }


def _path(nodes: list[dict], i):
    while i is not None:
        yield i
        i = nodes[i]["parent"]
