"""The live decode benchmark's target checks (benchmark/decode/targets.py)."""
from benchmark.decode import targets


def summaries(rate_on: dict, identical: bool = True) -> dict:
    """tok/s off = 10 everywhere; on = rate_on[(workload, batch)]."""
    out = {}
    for (name, batch), on in rate_on.items():
        out[(name, batch, "off")] = {"tokens": 100, "wall_s": 10.0, "identical": identical}
        out[(name, batch, "agentsam")] = {"tokens": 100, "wall_s": 100 / on,
                                          "identical": identical}
    return out


def test_all_met():
    got = targets.check(summaries({("nemo_gym", 1): 20, ("bfcl", 1): 18, ("nemo_gym", 4): 14,
                                   ("bfcl", 4): 13, ("prose", 1): 9.8, ("prose", 4): 10}))
    assert [v.ok for v in got] == [True, True, True, True, True]
    assert got[0].measured == "1.89x"          # 200 tokens in 5 + 5.56 s


def test_group_is_token_weighted_and_misses_are_reported():
    s = summaries({("nemo_gym", 1): 30, ("bfcl", 1): 10, ("prose", 1): 9.6})
    s[("bfcl", 1, "agentsam")]["tokens"] = s[("bfcl", 1, "off")]["tokens"] = 300
    s[("bfcl", 1, "off")]["wall_s"] = 30.0
    s[("bfcl", 1, "agentsam")]["wall_s"] = 30.0
    # on: 400 tokens in 100/30 + 30 s; off: 400 in 40 s -> 1.2x
    assert abs(targets.group_speedup(s, targets.AGENT, 1) - 400 / (100 / 30 + 30) / 10) < 1e-9
    got = targets.check(s)
    assert got[0].ok is False and got[1].ok is None and got[2].ok is False
    assert targets.verdict_text(got[1].ok) == "not run"


def test_batched_targets_follow_the_run_batch():
    s = summaries({("nemo_gym", 2): 13, ("bfcl", 2): 13, ("prose", 2): 9})
    got = targets.check(s, batch_size=2)
    assert [(v.batch, v.ok) for v in got[:4]] == [(1, None), (2, True), (1, None), (2, False)]
    assert targets.check(s)[1].ok is None                 # batch 4 was not run


def test_differing_outputs_fail_the_identity_target():
    got = targets.check(summaries({("prose", 1): 10}, identical=False))
    assert got[-1].ok is False and got[-1].measured == "0 / 1 runs"
