"""Tree snapshots for the visualizer and for debugging: pure functions of a LookaheadRadixCache.

``snapshot(cache)`` returns plain JSON data: every node (token count, the first token ids for a
text preview, lock ref, protected/evictable, discarded), the branch and session-head tags on
each node, the branches with their transition histories and end nodes, pins with their TTLs, the
sizes and, when asked for ``match`` tokens, the node where their longest cached prefix ends.
``to_text`` renders it as an indented tree and ``to_dot`` as Graphviz (`agentrt radix`).
"""
PREVIEW_TOKENS = 24


def _walk(cache):
    stack = [(cache.root_node, None, 0)]
    while stack:
        node, parent_id, depth = stack.pop()
        yield node, parent_id, depth
        for child in sorted(node.children.values(), key=lambda n: n.id, reverse=True):
            stack.append((child, node.id, depth + 1))


def _end_node_id(cache, tokens):
    """Id of the node where the page-aligned ``tokens`` end in the tree (None: not all cached)."""
    end = cache.walk(tokens).end
    return end.id if end is not None else None


def match_node(cache, tokens: list[int]) -> dict:
    """Where the longest cached prefix of ``tokens`` ends, read-only (``cache.walk``: SGLang's
    match_prefix would split the node it stops in). ``node`` None: nothing matched."""
    walk = cache.walk(tokens)
    node = walk.partial if walk.partial is not None else (walk.nodes[-1] if walk.nodes else None)
    return {"requested": len(tokens), "matched_tokens": walk.matched,
            "partial": walk.partial is not None, "node": node.id if node is not None else None}


def _branch_json(cache, branch) -> dict:
    """A branch with the node it locks, the node where its tokens end (after a commit the lock
    is gone but the node is still there) and how far the tree already holds its tokens (a
    preparing branch: its fork node)."""
    reached = match_node(cache, branch.tokens)
    return dict(branch.to_json(), node=branch.node.id if branch.node is not None else None,
                end_node=_end_node_id(cache, branch.tokens), cached_node=reached["node"],
                cached_tokens=reached["matched_tokens"])


def snapshot(cache, match: list[int] | None = None) -> dict:
    now = cache.clock()
    tags: dict[int, dict] = {}
    for branch in cache.book.branches.values():
        if branch.node is not None:
            tags.setdefault(branch.node.id, {}).setdefault("branches", []).append(branch.id)
    heads = {}
    for session in cache.book.sessions.values():
        node_id = _end_node_id(cache, session.context) if session.context else None
        heads[session.id] = node_id
        if node_id is not None:
            tags.setdefault(node_id, {}).setdefault("session_heads", []).append(session.id)
    for pin in cache.pins.values():
        tags.setdefault(pin.node.id, {}).setdefault("pins", []).append(pin.session_id)
    nodes = []
    for node, parent_id, depth in _walk(cache):
        is_root = node is cache.root_node
        nodes.append({
            "id": node.id, "parent": parent_id, "depth": depth,
            "tokens": 0 if is_root else len(node.key),
            "preview_ids": [] if is_root else list(node.key.token_ids[:PREVIEW_TOKENS]),
            "lock_ref": node.lock_ref, "protected": node.lock_ref > 0 and not is_root,
            "discarded": node.id in cache.discarded, "children": len(node.children),
            **tags.get(node.id, {}),
        })
    return {
        "page_size": cache.page_size,
        "sizes": {"evictable": cache.evictable_size(), "protected": cache.protected_size(),
                  "total": cache.total_size(), "held_by_lookahead": cache.held_tokens(),
                  "budget": cache.budget_tokens},
        "nodes": nodes,
        "sessions": [{"id": s.id, "context_tokens": len(s.context), "head": heads[s.id],
                      "branches": s.branches} for s in cache.book.sessions.values()],
        "branches": [_branch_json(cache, b) for b in cache.book.branches.values()],
        "pins": [dict(p.to_json(now), node=p.node.id) for p in cache.pins.values()],
        **({"match": match_node(cache, match)} if match is not None else {}),
    }


def _label(node: dict) -> str:
    """A node's text preview (decoded by the server) or its first token ids."""
    text = node.get("preview") or " ".join(map(str, node["preview_ids"][:8]))
    return repr(text[:40])


def _marks(node: dict) -> list[str]:
    marks = [f"lock={node['lock_ref']}"] if node["lock_ref"] else []
    marks += [f"branch={b}" for b in node.get("branches", [])]
    marks += [f"head={s}" for s in node.get("session_heads", [])]
    marks += [f"pin={s}" for s in node.get("pins", [])]
    return marks + (["discarded"] if node["discarded"] else [])


def to_text(snap: dict) -> str:
    """The tree as indented text, one node a line: [tokens] preview  marks."""
    lines = []
    for n in snap["nodes"]:
        if n["parent"] is None:
            sizes = snap["sizes"]
            lines.append(f"root  (evictable {sizes['evictable']}, protected {sizes['protected']}, "
                         f"held {sizes['held_by_lookahead']}/{sizes['budget']})")
            continue
        marks = _marks(n)
        lines.append(f"{'  ' * n['depth']}[{n['tokens']}] {_label(n)}"
                     f"{'  ' + ' '.join(marks) if marks else ''}")
    return "\n".join(lines)


def to_dot(snap: dict) -> str:
    """The tree in Graphviz DOT: protected nodes bold, branch / head / pin tags in the label."""
    lines = ["digraph radix {", '  node [shape=box, fontname="monospace", fontsize=10];']
    for n in snap["nodes"]:
        if n["parent"] is None:
            lines.append(f'  n{n["id"]} [label="root"];')
            continue
        label = f"[{n['tokens']}] {_label(n)}\\n{' '.join(_marks(n))}".replace('"', "'")
        style = ', style=bold' if n["protected"] else (', style=dashed' if n["discarded"] else "")
        lines.append(f'  n{n["id"]} [label="{label}"{style}];')
        lines.append(f'  n{n["parent"]} -> n{n["id"]};')
    return "\n".join(lines + ["}"])
