"""benchmark/decode replay: exact step accounting on hand-made sessions (no tokenizer)."""
import pytest

from agentrt.speculative.drafter import DrafterConfig
from agentrt.speculative.policy import WidthPolicy
from agentrt.speculative.store import SequenceStore
from benchmark.decode.replay import ORACLE, replay
from benchmark.decode.segments import Segment, Session, control_sessions, distinct_words

SPAN = tuple(range(100, 120))
SESSION = Session("s", (Segment(SPAN + (1,), False), Segment(SPAN[:12], True)))
# a prior of ~1 (match_half ~0): every draft is verified at the full width 4
CONFIG = DrafterConfig(policy=WidthPolicy(max_width=4, match_half=1e-9), calibrate=False)


def test_copying_a_seen_span_accepts_whole_drafts():
    result, tally = replay([SESSION], CONFIG)
    # step 1 has no match (after token 1): plain; then 4 drafts + 1 per step: 1 + 5 + 5 + 1,
    # the last step verifying 4 with only 1 token left
    assert result.tokens == 12 and result.steps == 4
    assert tally.drafted_steps == 3 and tally.accepted == 9
    assert result.predicted_speedup == pytest.approx(12 * 40 / (40 + 3 * 56))


def test_fixed_width_pays_every_step_and_oracle_only_what_is_accepted():
    fixed, _ = replay([SESSION], CONFIG, fixed_width=8)
    assert fixed.steps == 3 and fixed.predicted_speedup == pytest.approx(12 * 40 / (3 * 72))
    oracle, _ = replay([SESSION], CONFIG, fixed_width=ORACLE)
    # 1 plain step, then 8 accepted + 1, then the last 2 (1 accepted + 1)
    assert oracle.steps == 3
    assert oracle.predicted_speedup == pytest.approx(12 * 40 / (40 + 72 + 44))


def test_store_carries_a_span_into_the_next_session():
    other = Session("t", (Segment((7, 8) + SPAN[:4], False), Segment(SPAN[4:12], True)))
    alone, _ = replay([other], CONFIG, SequenceStore())
    after, tally = replay([SESSION, other], CONFIG, SequenceStore())
    assert alone.predicted_speedup == 1.0
    assert tally.store_steps > 0


def test_control_words_are_never_repeated():
    words = distinct_words(["alpha beta gamma", "Beta delta, epsilon zeta eta theta"])
    assert words == ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"]
    sessions = control_sessions(words, lambda text: [len(w) for w in text.split()], 2, 0,
                                context_words=2, turn_words=1, turns=2)
    assert len(sessions) == 2
    with pytest.raises(ValueError):
        control_sessions(words, lambda text: [], 3, 0, context_words=2, turn_words=1, turns=2)
