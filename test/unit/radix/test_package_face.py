"""``agentrt.radix`` exports the names a user imports, lazily: pure modules stay SGLang-free."""
import subprocess
import sys

import pytest

import agentrt.radix as radix


def test_public_names_resolve_to_their_modules():
    from agentrt.radix import BranchState, LookaheadRadixCache, LookaheadSettings
    from agentrt.radix.cache import LookaheadRadixCache as direct

    assert LookaheadRadixCache is direct
    assert BranchState.READY.value == "ready" and LookaheadSettings().budget_fraction > 0
    for name in radix.__all__:
        assert getattr(radix, name) is not None


def test_unknown_names_are_not_exported():
    with pytest.raises(AttributeError):
        radix.common_prefix_len      # a helper of branch.py, not the package's face
    with pytest.raises(ImportError):
        exec("from agentrt.radix import RadixKey", {})


def test_pure_modules_do_not_import_sglang():
    code = ("import sys, agentrt.radix, agentrt.radix.visualize, agentrt.radix.branch; "
            "from agentrt.radix import to_text, BranchState; "
            "assert not any(m == 'sglang' or m.startswith('sglang.') for m in sys.modules), "
            "'sglang imported'")
    subprocess.run([sys.executable, "-c", code], check=True)
