"""The live decode benchmark's alternated rounds (benchmark/decode/live.py ``--rounds``)."""
import pytest

from benchmark.decode import live


def summary(tokens: int, wall: float, ids: list, steps: int) -> dict:
    return {"output_ids": ids, "tokens": tokens, "wall_s": wall, "tok_s": tokens / wall,
            "verify_steps": steps, "ms_per_step": 1000 * wall / steps, "accepted_drafts": 1}


def test_rounds_are_summed_and_rates_recomputed():
    a = {("prose", 1): summary(100, 10.0, [[1, 2]], 100)}
    b = {("prose", 1): summary(100, 5.0, [[1, 2]], 50)}
    got = live.merge_rounds([a, b])[("prose", 1)]
    assert (got["tokens"], got["wall_s"], got["verify_steps"]) == (200, 15.0, 150)
    assert abs(got["tok_s"] - 200 / 15.0) < 1e-9          # not the mean of 10 and 20 tok/s
    assert got["accepted_drafts"] == 2 and got["same_each_round"]


def test_a_round_that_decoded_other_tokens_makes_the_run_not_identical():
    off = [{("prose", 1): summary(100, 10.0, [[1, 2]], 100)}] * 2
    on = [{("prose", 1): summary(100, 8.0, [[1, 2]], 60)},
          {("prose", 1): summary(100, 8.0, [[1, 3]], 60)}]
    merged = {"off": live.merge_rounds(off), "agentsam": live.merge_rounds(on)}
    assert merged["agentsam"][("prose", 1)]["same_each_round"] is False
    combined = live.combine(merged)
    assert combined[("prose", 1, "off")]["identical"] is False
    assert combined[("prose", 1, "agentsam")]["identical"] is False


def test_rounds_must_be_positive():
    with pytest.raises(SystemExit):
        live.parse(["--rounds", "0"])
    assert live.parse(["--rounds", "3"]).rounds == 3
