"""``register_algorithm()``: makes ``--speculative-algorithm AGENTSAM`` a name SGLang knows.

SGLang 0.5.23 keeps plugin algorithms in ``spec_registry`` (through
``SpeculativeAlgorithm.register``); ``SpeculativeAlgorithm.from_string`` resolves the flag's
value there, both when ``ServerArgs`` are resolved (HTTP / launcher process) and wherever the
scheduler asks again, so the registry must be filled in *every* process that resolves it, and in
the launcher *before* ``prepare_server_args``. The registry is per process (the scheduler is
spawned), hence one idempotent function to call early in each.

What AGENTSAM declares (``AgentSamAlgo``):

| question SGLang asks             | answer | effect                                            |
|----------------------------------|--------|---------------------------------------------------|
| ``is_ngram()``                   | True   | n-gram verify, acceptance and KV-move path        |
| ``has_draft_kv()``               | False  | no draft model, no draft KV chains                |
| ``supports_overlap``             | False  | ``handle_server_args`` turns the overlap scheduler off |
| ``create_worker``                | ``AgentSamWorker`` (worker.py)                              |

Overlap stays off: SGLang 0.5.23 turns it off for its own speculative algorithms on CPU
(``speculative_hook._disable_overlap_schedule_for_cpu``), and CPU streams and events are no-ops,
so the overlap loop would run each forward synchronously before processing the previous batch:
nothing overlaps (per-phase timings: benchmark/README.md, decode). On CUDA an overlap-capable
AGENTSAM would need the worker to draft from tokens one step behind (NGRAMWorker's
``use_prev_tokens`` splice); not built.

``handle_server_args`` fills what SGLang's own NGRAM handler fills (it is not called for plugin
algorithms): overlap off, mixed chunked prefill off, ``speculative_num_draft_tokens``
(default 8: verifying 8 costs ~1.8x a step on this CPU), ``speculative_eagle_topk`` 1 and
``speculative_num_steps``. ``validate`` refuses devices other than CPU / CUDA and, on CPU, any
attention backend but ``agentrt_cpu`` (the only one with a tree-masked verify mode there).
"""
import logging

logger = logging.getLogger("agentrt.speculative")

ALGORITHM = "AGENTSAM"
DEFAULT_DRAFT_TOKENS = 8
CPU_ATTENTION_BACKEND = "agentrt_cpu"


def _spec_class():
    from sglang.srt.speculative.spec_registry import CustomSpecAlgo

    class AgentSamAlgo(CustomSpecAlgo):
        """AGENTSAM as SGLang sees it (see the module table)."""

        def is_ngram(self) -> bool:
            return True

        def has_draft_kv(self) -> bool:
            return False

        # SpeculativeAlgorithm methods CustomSpecAlgo lacks in 0.5.23 (its conformance check
        # covers is_* / supports_* only); answered as SGLang answers them for NGRAM.
        def carries_draft_hidden_states(self) -> bool:
            return False

        def need_topk(self) -> bool:
            return False

        def get_platform_worker_cls(self):
            return None

        def create_future_map(self, device, req_to_token_pool, needs_cpu_seq_lens=True,
                              needs_confidence_relay=False):
            from sglang.srt.managers.overlap_utils import FutureMap

            return FutureMap(device, self, req_to_token_pool, needs_cpu_seq_lens,
                             needs_confidence_relay)

        def handle_server_args(self, server_args) -> None:
            """Overrides CustomSpecAlgo.handle_server_args (writes are recorded by SGLang)."""
            server_args.disable_overlap_schedule = True
            server_args.enable_mixed_chunk = False
            if server_args.speculative_num_draft_tokens is None:
                server_args.speculative_num_draft_tokens = DEFAULT_DRAFT_TOKENS
            server_args.speculative_eagle_topk = 1
            if server_args.speculative_num_steps is None:
                server_args.speculative_num_steps = server_args.speculative_num_draft_tokens
            if server_args.max_running_requests is None:
                server_args.max_running_requests = 48

    return AgentSamAlgo


def validate(server_args) -> None:
    """Refuse configurations AGENTSAM cannot verify exactly (see the module docstring)."""
    device = server_args.device
    if device not in ("cpu", "cuda"):
        raise ValueError(f"{ALGORITHM} supports CPU and CUDA devices, not {device!r}")
    backend = server_args.attention_backend
    if device == "cpu" and backend not in (None, CPU_ATTENTION_BACKEND):
        raise ValueError(f"{ALGORITHM} on CPU needs --attention-backend {CPU_ATTENTION_BACKEND} "
                         f"(the only CPU backend with a tree-masked verify); got {backend!r}")


def is_registered() -> bool:
    from sglang.srt.speculative.spec_registry import get_spec

    return get_spec(ALGORITHM) is not None


def register_algorithm() -> bool:
    """Register AGENTSAM in this process's SGLang; True if this call registered it.

    Idempotent. Imports SGLang's speculative modules only (on CPU the engine flag
    ``SGLANG_USE_CPU_ENGINE=1`` must already be set, as for any SGLang import).
    """
    if is_registered():
        return False
    from sglang.srt.speculative.spec_info import SpeculativeAlgorithm

    def factory(server_args):
        from agentrt.speculative.worker import worker_factory

        return worker_factory(server_args)

    SpeculativeAlgorithm.register(ALGORITHM, supports_overlap=False,
                                  validate_server_args=validate,
                                  spec_class=_spec_class())(factory)
    logger.info("speculative algorithm %s registered", ALGORITHM)
    return True
