"""Snapshot -> the web view's compact model (pure; the page at /agentrt/radix/view only draws it).

``build_view(snap, ViewOptions(...))`` takes a ``visualize.snapshot()`` (live or saved) and returns
the nodes to draw, in drawing order (pre-order, children by id), each with what the page shows:

    size      size class of its token count: 0 root, 1 <16, 2 <128, 3 <1024, 4 <8192, 5 more
    label     its text preview (whitespace collapsed, cut at LABEL_CHARS) or its first token ids
    state     root | protected (lock_ref > 0) | evictable | discarded
    lineage   root | transformed (past a branch's fork) | original (a session's context) | cache
    tags      branches (id, state; drawn where their tokens end, a preparing one at the
              deepest node it shares with the tree), session heads, pins (TTL), the matched node

Which nodes are drawn (stays small at any tree size):

    1. the root and every path from it to a tagged node (branch end, head, pin, match);
    2. breadth first from the root, children by id, until ``budget`` nodes are drawn in all,
       except that all children of a node the user expanded are drawn (at most CHILD_CAP each);
    3. nothing below a node the user collapsed (its subtree is hidden even if tagged).

A drawn node with undrawn children is *collapsed*: it carries ``hidden_children`` and the size of
what it hides (``hidden_nodes``, ``hidden_tokens``, ``hidden_tagged``) so the page can draw a
"+N" stub. A session filter keeps only that session's context, branches and pins (and their
ancestors); everything else counts as hidden.
"""
from bisect import bisect_right
from collections import deque
from dataclasses import dataclass, field

DEFAULT_BUDGET = 400
CHILD_CAP = 200
LABEL_CHARS = 48
LABEL_IDS = 8
SIZE_BOUNDS = (1, 16, 128, 1024, 8192)


@dataclass(frozen=True)
class ViewOptions:
    session: str | None = None                 # show only this session's part of the tree
    expand: frozenset = field(default_factory=frozenset)     # node ids the user opened
    collapse: frozenset = field(default_factory=frozenset)   # node ids the user closed
    budget: int = DEFAULT_BUDGET


def size_class(tokens: int) -> int:
    return bisect_right(SIZE_BOUNDS, tokens)


def label(node: dict) -> str:
    text = " ".join((node.get("preview") or "").split())
    if text:
        return text if len(text) <= LABEL_CHARS else text[:LABEL_CHARS - 1] + "…"
    ids = node.get("preview_ids") or []
    more = "…" if max(len(ids), node.get("tokens", 0)) > LABEL_IDS else ""
    return " ".join(map(str, ids[:LABEL_IDS])) + more


def node_state(node: dict) -> str:
    if node["parent"] is None:
        return "root"
    if node.get("discarded"):
        return "discarded"
    return "protected" if node.get("protected") else "evictable"


class UnknownSessionError(LookupError):
    """The session filter names a session the snapshot does not have."""


class _Tree:
    """Parent/children maps, pre-order and token offsets of a snapshot's nodes."""

    def __init__(self, nodes: list[dict]):
        for n in nodes:
            if not (isinstance(n, dict) and isinstance(n.get("id"), int)
                    and isinstance(n.get("tokens"), int) and "parent" in n):
                raise ValueError(f"malformed snapshot node (needs id, parent, tokens): {n!r:.80}")
        self.by_id = {n["id"]: n for n in nodes}
        roots = [n["id"] for n in nodes if n["parent"] is None]
        if len(roots) != 1:
            raise ValueError(f"a snapshot has exactly one root node, found {len(roots)}")
        self.root = roots[0]
        self.children: dict[int, list[int]] = {i: [] for i in self.by_id}
        for n in nodes:
            if n["parent"] is not None:
                if n["parent"] not in self.by_id:
                    raise ValueError(f"node {n['id']} has an unknown parent {n['parent']}")
                self.children[n["parent"]].append(n["id"])
        for kids in self.children.values():
            kids.sort()
        self.order, self.end, self.depth = [], {}, {}   # pre-order; where each node ends
        stack = [self.root]
        while stack:
            i = stack.pop()
            self.order.append(i)
            parent = self.by_id[i]["parent"]
            self.end[i] = (self.end[parent] if parent is not None else 0) + self.by_id[i]["tokens"]
            self.depth[i] = self.depth[parent] + 1 if parent is not None else 0
            stack.extend(reversed(self.children[i]))
        if len(self.order) != len(nodes):
            raise ValueError("the snapshot's nodes do not form one tree")

    def path(self, i: int) -> list[int]:
        """``i`` and its ancestors up to the root."""
        out = []
        while i is not None:
            out.append(i)
            i = self.by_id[i]["parent"]
        return out


def _branch_end(branch: dict):
    """Where a branch is drawn: the node it locks, else where its tokens end, else (still
    preparing, or evicted) the deepest node holding a prefix of them."""
    for key in ("node", "end_node", "cached_node"):
        if branch.get(key) is not None:
            return branch[key]
    return None


def _tags(snap: dict, tree: _Tree, session: str | None) -> dict[int, list[dict]]:
    tags: dict[int, list[dict]] = {}

    def add(node_id, tag):
        if node_id in tree.by_id:
            tags.setdefault(node_id, []).append(tag)

    for b in snap.get("branches", []):
        if session is None or b["session_id"] == session:
            add(_branch_end(b), {"kind": "branch", "id": b["id"], "state": b["state"],
                                 "strategy": b.get("strategy", ""), "session": b["session_id"]})
    for s in snap.get("sessions", []):
        if session is None or s["id"] == session:
            add(s.get("head"), {"kind": "head", "session": s["id"]})
    for p in snap.get("pins", []):
        if session is None or p["session_id"] == session:
            add(p["node"], {"kind": "pin", "session": p["session_id"], "reason": p.get("reason"),
                            "ttl_s": p.get("ttl_remaining_s")})
    match = snap.get("match") or {}
    if match.get("node") is not None:
        add(match["node"], {"kind": "match", "tokens": match["matched_tokens"],
                            "partial": match.get("partial", False)})
    return tags


def _lineage(snap: dict, tree: _Tree) -> tuple[dict, dict]:
    """Branch ids whose transformed part (past the fork) holds each node; sessions per node."""
    branch_of: dict[int, list[str]] = {}
    session_of: dict[int, list[str]] = {}
    for b in snap.get("branches", []):
        end = _branch_end(b)
        if end in tree.by_id:
            for i in tree.path(end):
                if i != tree.root and tree.end[i] > b.get("fork_len", 0):
                    branch_of.setdefault(i, []).append(b["id"])
    for s in snap.get("sessions", []):
        if s.get("head") in tree.by_id:
            for i in tree.path(s["head"]):
                if i != tree.root:
                    session_of.setdefault(i, []).append(s["id"])
    return branch_of, session_of


def _session_nodes(snap: dict, tree: _Tree, session: str) -> set[int]:
    sessions = {s["id"]: s for s in snap.get("sessions", [])}
    if session not in sessions:
        raise UnknownSessionError(f"unknown session {session!r}")
    ends = [sessions[session].get("head")]
    ends += [_branch_end(b) for b in snap.get("branches", []) if b["session_id"] == session]
    ends += [p["node"] for p in snap.get("pins", []) if p["session_id"] == session]
    keep = {tree.root}
    for end in ends:
        if end in tree.by_id:
            keep.update(tree.path(end))
    return keep


def _choose(tree: _Tree, eligible, tagged, opts: ViewOptions) -> set[int]:
    """The drawn node ids (steps 1-3 of the module docstring): one breadth-first pass in which
    tagged paths and an expanded node's children are drawn whatever the budget, and that never
    enters a collapsed node."""
    closed = opts.collapse - {tree.root}
    drawn = {tree.root}
    for i in tagged:
        path = tree.path(i)
        if eligible(i) and not closed.intersection(path[1:]):
            drawn.update(path)
    queue = deque([tree.root])
    while queue:
        i = queue.popleft()
        if i in closed:
            continue
        forced = CHILD_CAP if i in opts.expand else 0
        for c in tree.children[i]:
            if not eligible(c):
                continue
            if c not in drawn:
                if forced:
                    forced -= 1
                elif len(drawn) >= opts.budget:
                    continue
                drawn.add(c)
            queue.append(c)
    return drawn


def _subtree_totals(tree: _Tree, tagged) -> dict[int, tuple[int, int, int]]:
    """(nodes, tokens, tagged nodes) of each node's subtree, itself included."""
    totals = {}
    for i in reversed(tree.order):
        nodes, tokens, marks = 1, tree.by_id[i]["tokens"], int(i in tagged)
        for c in tree.children[i]:
            cn, ct, cm = totals[c]
            nodes, tokens, marks = nodes + cn, tokens + ct, marks + cm
        totals[i] = (nodes, tokens, marks)
    return totals


def _view_node(tree: _Tree, i: int, drawn, tags, lineage, totals, opts: ViewOptions) -> dict:
    """Node ``i`` as the page draws it; its children that are not ``drawn`` are summed into the
    ``hidden_*`` counts (``totals``: ``_subtree_totals``). ``lineage``: (branch_of, session_of)
    of ``_lineage``."""
    n = tree.by_id[i]
    branch_of, session_of = lineage
    hidden = [c for c in tree.children[i] if c not in drawn]
    return {
        "id": i, "parent": n["parent"], "depth": tree.depth[i],
        "tokens": n["tokens"], "offset": tree.end[i] - n["tokens"],
        "size": size_class(n["tokens"]), "label": label(n), "state": node_state(n),
        "lineage": ("root" if i == tree.root else "transformed" if i in branch_of
                    else "original" if i in session_of else "cache"),
        "lock_ref": n.get("lock_ref", 0), "tags": tags.get(i, []),
        "branch_path": branch_of.get(i, []), "sessions": session_of.get(i, []),
        "preview": n.get("preview", ""), "preview_ids": n.get("preview_ids", []),
        "children": len(tree.children[i]), "hidden_children": len(hidden),
        "hidden_nodes": sum(totals[c][0] for c in hidden),
        "hidden_tokens": sum(totals[c][1] for c in hidden),
        "hidden_tagged": sum(totals[c][2] for c in hidden),
        "expanded": i in opts.expand, "collapsed_by_user": i in opts.collapse,
    }


def build_view(snap: dict, opts: ViewOptions = ViewOptions()) -> dict:
    """The page's model. Raises ValueError for a malformed snapshot, UnknownSessionError for a
    session filter the snapshot does not know."""
    if not isinstance(snap, dict) or not isinstance(snap.get("nodes"), list) or not snap["nodes"]:
        raise ValueError("not an agentrt radix snapshot (no nodes)")
    if opts.budget < 1:
        raise ValueError("budget must be at least 1")
    tree = _Tree(snap["nodes"])
    tags = _tags(snap, tree, opts.session)
    branch_of, session_of = _lineage(snap, tree)
    keep = _session_nodes(snap, tree, opts.session) if opts.session is not None else None
    eligible = (lambda i: True) if keep is None else keep.__contains__
    drawn = _choose(tree, eligible, tags, opts)
    totals = _subtree_totals(tree, tags)
    nodes = [_view_node(tree, i, drawn, tags, (branch_of, session_of), totals, opts)
             for i in tree.order if i in drawn]
    sessions = [s for s in snap.get("sessions", [])
                if opts.session is None or s["id"] == opts.session]
    return {
        "nodes": nodes, "total_nodes": len(tree.order), "drawn_nodes": len(nodes),
        "budget": opts.budget, "session": opts.session,
        "sessions": sessions, "all_sessions": [s["id"] for s in snap.get("sessions", [])],
        "branches": [b for b in snap.get("branches", [])
                     if opts.session is None or b["session_id"] == opts.session],
        "pins": [p for p in snap.get("pins", [])
                 if opts.session is None or p["session_id"] == opts.session],
        "sizes": snap.get("sizes", {}), "page_size": snap.get("page_size"),
        "match": snap.get("match"),
    }
