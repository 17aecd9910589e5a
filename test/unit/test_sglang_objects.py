"""The table of SGLang attributes agentrt uses, checked against the installed SGLang's objects."""
from types import SimpleNamespace

import pytest
from sglang.srt.managers.schedule_batch import ScheduleBatch

from agentrt.server.scheduling.sglang_objects import (ATTRIBUTES, SglangObjectError, check, missing,
                                           probe_request)


def test_a_real_request_and_batch_have_every_attribute():
    req = probe_request()
    assert missing("Req", req) == [] and missing("SchedulerReqTimeStats", req.time_stats) == []
    assert missing("ScheduleBatch", ScheduleBatch) == []


def test_a_missing_attribute_fails_loudly_naming_it():
    fake = SimpleNamespace(**{a: None for a in ATTRIBUTES["Req"] if a != "prefix_len"})
    assert missing("Req", fake) == ["prefix_len"]
    with pytest.raises(SglangObjectError, match="SGLang's Req has no prefix_len"):
        check("Req", fake)
