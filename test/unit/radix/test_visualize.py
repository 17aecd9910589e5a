from agentrt.radix.visualize import snapshot, to_text

from .helpers import cache_sequence, make_cache


def cache_with_branch():
    """Context [1 2 3 4] of session s, and a ready branch [1 2 9] beside it."""
    c = make_cache(64)
    cache_sequence(c, [1, 2, 3, 4])
    c.open_session("s", [1, 2, 3, 4])
    branch = c.prepare("s", [1, 2, 9], "summary", 1)
    cache_sequence(c, [1, 2, 9])
    c.on_prefill_landed(branch.id)
    return c, branch


def _snap():
    c, branch = cache_with_branch()
    return snapshot(c), branch.id


def test_snapshot_tags_branch_head_and_pin():
    c, branch = cache_with_branch()
    c.pin("s", tool="bash", ttl_s=5)
    snap = snapshot(c)
    by_tokens = {tuple(n["preview_ids"]): n for n in snap["nodes"]}
    assert by_tokens[(9,)]["branches"] == [branch.id] and by_tokens[(9,)]["protected"]
    assert by_tokens[(3, 4)]["session_heads"] == ["s"] and by_tokens[(3, 4)]["pins"] == ["s"]
    assert by_tokens[(1, 2)]["lock_ref"] == 2
    assert snap["sessions"][0]["head"] == by_tokens[(3, 4)]["id"]
    assert snap["branches"][0]["state"] == "ready"
    assert snap["pins"][0]["ttl_remaining_s"] == 5.0
    assert snap["sizes"]["held_by_lookahead"] == 1   # the branch's own (9,): the rest is s's
    text = to_text(snap)
    assert f"branch={branch.id}" in text and "head=s" in text and "pin=s" in text


def test_dot_marks_protected_branch_and_head():
    from agentrt.radix.visualize import to_dot

    snap, bid = _snap()
    dot = to_dot(snap)
    assert dot.startswith("digraph radix {") and dot.rstrip().endswith("}")
    assert f"branch={bid}" in dot and "head=s" in dot and "style=bold" in dot
    assert dot.count("->") == len(snap["nodes"]) - 1


def test_cli_saves_and_renders_a_snapshot(tmp_path, capsys):
    import json

    from agentrt.radix_cli import main

    snap, bid = _snap()
    saved = tmp_path / "snap.json"
    saved.write_text(json.dumps(snap))
    assert main(["--load", str(saved), "--format", "dot", "--save", str(tmp_path / "copy.json")]) == 0
    assert f"branch={bid}" in capsys.readouterr().out
    assert json.loads((tmp_path / "copy.json").read_text()) == snap
    assert main(["--load", str(tmp_path / "copy.json")]) == 0
    assert "head=s" in capsys.readouterr().out
    (tmp_path / "bad.json").write_text('{"x": 1}')
    assert main(["--load", str(tmp_path / "bad.json")]) == 2
    assert "not an agentrt radix snapshot" in capsys.readouterr().err
    assert main(["--url", "http://127.0.0.1:9"]) == 2
