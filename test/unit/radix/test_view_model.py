"""view_model.build_view: snapshot -> the web view's model, with exact expectations."""
import pytest

from agentrt.server.http.view_model import (UnknownSessionError, ViewOptions, build_view, label,
                                      size_class)
from agentrt.radix.visualize import match_node, snapshot
from agentrt.testing.synthetic_snapshot import synthetic_snapshot

from .helpers import cache_sequence, make_cache
from .test_visualize import cache_with_branch


def rows(view):
    """(preview ids, size, state, lineage, tags) of every drawn node, in drawing order."""
    return [(tuple(n["preview_ids"]), n["size"], n["state"], n["lineage"],
             [(t["kind"], t.get("id") or t.get("session"), t.get("state")) for t in n["tags"]])
            for n in view["nodes"]]


def test_size_classes_and_labels():
    assert [size_class(t) for t in (0, 1, 15, 16, 127, 128, 1023, 1024, 8191, 8192, 10 ** 6)] == \
        [0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert label({"preview": "  hello\n  world ", "preview_ids": [1]}) == "hello world"
    assert label({"preview": "x" * 60}) == "x" * 47 + "…"
    assert label({"preview": "", "preview_ids": [1, 2, 3], "tokens": 3}) == "1 2 3"
    assert label({"preview_ids": list(range(24)), "tokens": 24}) == "0 1 2 3 4 5 6 7…"


def test_ready_branch_beside_the_session_context():
    c, branch = cache_with_branch()
    c.pin("s", tool="bash", ttl_s=5)
    view = build_view(snapshot(c))
    assert rows(view) == [
        ((), 0, "root", "root", []),
        ((1, 2), 1, "protected", "original", []),
        ((3, 4), 1, "protected", "original", [("head", "s", None), ("pin", "s", None)]),
        ((9,), 1, "protected", "transformed", [("branch", branch.id, "ready")]),
    ]
    by_ids = {tuple(n["preview_ids"]): n for n in view["nodes"]}
    assert by_ids[(3, 4)]["lock_ref"] == 1 and by_ids[(3, 4)]["tags"][1]["ttl_s"] == 5.0
    assert by_ids[(9,)]["branch_path"] == [branch.id] and by_ids[(9,)]["offset"] == 2
    assert by_ids[(1, 2)]["sessions"] == ["s"] and by_ids[(1, 2)]["branch_path"] == []
    assert (view["total_nodes"], view["drawn_nodes"], view["all_sessions"]) == (4, 4, ["s"])
    assert all(n["hidden_children"] == 0 for n in view["nodes"])


def test_committed_branch_is_tagged_at_its_end_node_with_the_head():
    c, branch = cache_with_branch()
    c.commit("s", branch.id)
    view = build_view(snapshot(c))
    assert rows(view) == [
        ((), 0, "root", "root", []),
        ((1, 2), 1, "protected", "original", []),
        ((9,), 1, "protected", "transformed",
         [("branch", branch.id, "committed"), ("head", "s", None), ("pin", "s", None)]),
    ]


def test_match_resolves_the_deepest_node_read_only():
    c, _ = cache_with_branch()
    before = snapshot(c)
    node_34 = next(n["id"] for n in before["nodes"] if n["preview_ids"] == [3, 4])
    node_9 = next(n["id"] for n in before["nodes"] if n["preview_ids"] == [9])
    assert match_node(c, [1, 2, 3, 7]) == {"requested": 4, "matched_tokens": 3, "partial": True,
                                           "node": node_34}
    assert match_node(c, [1, 2, 9, 5]) == {"requested": 4, "matched_tokens": 3, "partial": False,
                                           "node": node_9}
    assert match_node(c, [7]) == {"requested": 1, "matched_tokens": 0, "partial": False,
                                  "node": None}
    after = snapshot(c, match=[1, 2, 3, 7])
    assert after["nodes"] == before["nodes"]          # no split, nothing touched
    view = build_view(after)
    assert [n["id"] for n in view["nodes"] if any(t["kind"] == "match" for t in n["tags"])] == \
        [node_34]


def test_session_filter_keeps_one_sessions_part():
    c, _ = cache_with_branch()
    cache_sequence(c, [1, 5, 6])
    c.open_session("t", [1, 5, 6])
    view = build_view(snapshot(c), ViewOptions(session="t"))
    assert rows(view) == [((), 0, "root", "root", []),
                          ((1,), 1, "protected", "original", []),
                          ((5, 6), 1, "evictable", "original", [("head", "t", None)])]
    split = view["nodes"][1]
    assert (split["hidden_children"], split["hidden_nodes"], split["hidden_tokens"]) == (1, 3, 4)
    assert split["hidden_tagged"] == 0    # s's head and branch are not tagged in t's view
    assert [s["id"] for s in view["sessions"]] == ["t"] and view["branches"] == []
    assert view["all_sessions"] == ["s", "t"]
    with pytest.raises(UnknownSessionError, match="unknown session 'nope'"):
        build_view(snapshot(c), ViewOptions(session="nope"))


def test_budget_collapses_breadth_first_and_keeps_tagged_paths():
    snap = synthetic_snapshot(21, fanout=4)   # 0 -> 1..4, 1 -> 5..8, ..., 4 -> 17..20
    view = build_view(snap, ViewOptions(budget=6))
    drawn = [n["id"] for n in view["nodes"]]
    # the paths to the branch end (19) and the head (20) first: 0-4-19/20; then breadth first
    # from the root until 6 are drawn: 1, 2
    assert drawn == [0, 1, 2, 4, 19, 20]
    by_id = {n["id"]: n for n in view["nodes"]}
    assert (by_id[0]["hidden_children"], by_id[0]["hidden_nodes"]) == (1, 5)
    assert (by_id[1]["hidden_children"], by_id[1]["hidden_nodes"]) == (4, 4)
    assert (by_id[4]["hidden_children"], by_id[4]["hidden_nodes"]) == (2, 2)
    assert by_id[0]["hidden_tagged"] == 0 and by_id[4]["hidden_tagged"] == 0
    assert sum(n["hidden_nodes"] for n in view["nodes"]) + len(drawn) == 21
    expanded = build_view(snap, ViewOptions(budget=6, expand=frozenset({2, 0})))
    assert [n["id"] for n in expanded["nodes"]] == [0, 1, 2, 9, 10, 11, 12, 3, 4, 19, 20]
    assert expanded["nodes"][2]["expanded"] is True
    closed = build_view(snap, ViewOptions(budget=6, collapse=frozenset({4})))
    assert [n["id"] for n in closed["nodes"]] == [0, 1, 5, 2, 3, 4]   # the budget refills
    assert closed["nodes"][5]["hidden_tagged"] == 2 and closed["nodes"][5]["collapsed_by_user"]


def test_ten_thousand_nodes_draw_a_bounded_view():
    snap = synthetic_snapshot(10_000)
    view = build_view(snap)
    assert view["total_nodes"] == 10_000
    assert view["drawn_nodes"] <= view["budget"] + 10
    assert sum(n["hidden_nodes"] for n in view["nodes"]) + view["drawn_nodes"] == 10_000
    assert sum(n["hidden_tokens"] + n["tokens"] for n in view["nodes"]) == snap["sizes"]["total"]
    tagged = {t["kind"] for n in view["nodes"] for t in n["tags"]}
    assert tagged == {"branch", "head", "pin"}
    big = build_view(snap, ViewOptions(expand=frozenset(n["id"] for n in view["nodes"])))
    assert big["drawn_nodes"] < 3_500       # each expansion adds at most CHILD_CAP children


@pytest.mark.parametrize("snap, words", [
    ({}, "not an agentrt radix snapshot"),
    ({"nodes": []}, "not an agentrt radix snapshot"),
    ({"nodes": [{"id": 0, "parent": None}]}, "malformed snapshot node"),
    ({"nodes": [{"id": 0, "parent": None, "tokens": 0},
                {"id": 1, "parent": 7, "tokens": 1}]}, "unknown parent 7"),
    ({"nodes": [{"id": 0, "parent": 1, "tokens": 0},
                {"id": 1, "parent": 0, "tokens": 1}]}, "exactly one root"),
])
def test_malformed_snapshots_are_refused_by_name(snap, words):
    with pytest.raises(ValueError, match=words):
        build_view(snap)


def test_preparing_branch_is_drawn_where_the_tree_holds_its_prefix():
    c = make_cache(64)
    cache_sequence(c, [1, 2, 3, 4])
    c.open_session("s", [1, 2, 3, 4])
    branch = c.prepare("s", [1, 2, 9], "summary", 1)      # not prefilled yet
    snap = snapshot(c)
    assert {k: snap["branches"][0][k] for k in ("node", "end_node", "cached_node",
                                                "cached_tokens")} == \
        {"node": None, "end_node": None, "cached_node": snap["nodes"][1]["id"],
         "cached_tokens": 2}
    assert rows(build_view(snap)) == [     # prepare split the context at the fork
        ((), 0, "root", "root", []),
        ((1, 2), 1, "evictable", "original", [("branch", branch.id, "preparing")]),
        ((3, 4), 1, "evictable", "original", [("head", "s", None)]),
    ]
