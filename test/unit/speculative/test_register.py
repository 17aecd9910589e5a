"""AGENTSAM's registration in SGLang's speculative registry (no server: the registry is in-process)."""
import os
from types import SimpleNamespace

import pytest

os.environ.setdefault("SGLANG_USE_CPU_ENGINE", "1")

from agentrt.speculative import register  # noqa: E402


@pytest.fixture(scope="module")
def algo():
    register.register_algorithm()
    from sglang.srt.speculative.spec_info import SpeculativeAlgorithm

    return SpeculativeAlgorithm.from_string("agentsam")


def test_registration_is_idempotent(algo):
    assert register.is_registered()
    assert register.register_algorithm() is False


def test_reuses_the_ngram_verify_path(algo):
    from sglang.srt.speculative.spec_info import SpeculativeAlgorithm

    assert algo.name == register.ALGORITHM
    assert algo.is_ngram() and algo.is_speculative() and not algo.is_eagle()
    assert not algo.has_draft_kv() and not algo.carries_draft_hidden_states()
    assert not algo.need_topk() and algo.get_platform_worker_cls() is None
    # every method SGLang calls on its own enum exists on the registered object
    public = {n for n in vars(SpeculativeAlgorithm)
              if not n.startswith("_") and callable(getattr(SpeculativeAlgorithm, n))}
    assert public - {"from_string", "register"} <= set(dir(algo))


def test_server_args_defaults_and_overlap_off(algo):
    args = SimpleNamespace(disable_overlap_schedule=False, enable_mixed_chunk=True,
                           speculative_num_draft_tokens=None, speculative_eagle_topk=None,
                           speculative_num_steps=None, max_running_requests=None)
    algo.handle_server_args(args)
    assert args.disable_overlap_schedule is True and args.enable_mixed_chunk is False
    assert args.speculative_num_draft_tokens == register.DEFAULT_DRAFT_TOKENS
    assert args.speculative_eagle_topk == 1
    assert args.speculative_num_steps == register.DEFAULT_DRAFT_TOKENS
    kept = SimpleNamespace(disable_overlap_schedule=True, enable_mixed_chunk=False,
                           speculative_num_draft_tokens=4, speculative_eagle_topk=None,
                           speculative_num_steps=None, max_running_requests=8)
    algo.handle_server_args(kept)
    assert kept.speculative_num_draft_tokens == 4 and kept.max_running_requests == 8


def test_worker_factory_needs_overlap_off(algo):
    from sglang.srt.speculative.ngram_worker import NGRAMWorker

    ok = SimpleNamespace(disable_overlap_schedule=True)
    assert issubclass(algo.create_worker(ok), NGRAMWorker)
    with pytest.raises(ValueError, match="overlap"):
        algo.create_worker(SimpleNamespace(disable_overlap_schedule=False))


@pytest.mark.parametrize("device,backend,ok", [
    ("cpu", "agentrt_cpu", True), ("cpu", None, True), ("cpu", "torch_native", False),
    ("cuda", "flashinfer", True), ("xpu", None, False)])
def test_validate(device, backend, ok):
    args = SimpleNamespace(device=device, attention_backend=backend)
    if ok:
        register.validate(args)
    else:
        with pytest.raises(ValueError):
            register.validate(args)


def test_unknown_without_registration_in_a_fresh_process():
    """Registration is per process: a process that never calls it rejects the name."""
    import subprocess
    import sys

    code = ("from sglang.srt.speculative.spec_info import SpeculativeAlgorithm as S\n"
            "try:\n    S.from_string('AGENTSAM')\nexcept ValueError:\n    print('unknown')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=dict(os.environ, SGLANG_USE_CPU_ENGINE="1"), timeout=120)
    assert out.stdout.strip().endswith("unknown")
