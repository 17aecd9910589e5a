"""The agentrt SGLang plugin: the ONE place that touches SGLang's seams.

SGLang's ``load_plugins()`` calls :func:`register` in its engine (HTTP), scheduler and detokenizer
processes (entry point group ``sglang.srt.plugins``, see setup.py). SGLang only *logs* exceptions
from plugins, so :func:`register` raises ``SystemExit`` (which SGLang does not catch) when the
installed SGLang lacks a seam: a half-patched server never starts.

Seam table: every SGLang name agentrt relies on, and what for. `check_seams` resolves each one;
a test asserts they all resolve against the pinned sglang==0.5.23.
"""
import importlib
import logging
import sys
from importlib import metadata
from typing import NamedTuple

from agentrt import SGLANG_VERSION

logger = logging.getLogger("agentrt.plugin")


class Seam(NamedTuple):
    target: str  # "package.module:attr.attr"
    purpose: str


SEAMS: tuple[Seam, ...] = (
    Seam("sglang.srt.plugins:load_plugins", "loads this plugin in every SGLang process"),
    Seam("sglang.srt.plugins.hook_registry:HookRegistry.register", "function/class hooks"),
    Seam("sglang.srt.server_args:prepare_server_args", "agentrt serve parses SGLang's own flags"),
    Seam("sglang.srt.server_args:ServerArgs.add_cli_args", "agentrt serve --help lists them"),
    Seam("sglang.launch_server:run_server", "agentrt serve runs SGLang's HTTP server"),
    Seam("sglang.srt.entrypoints.http_server:app", "extra /agentrt/* HTTP routes"),
    Seam("sglang.srt.mem_cache.registry:register_radix_cache_backend",
         "LookaheadRadixCache as a radix-cache backend"),
    Seam("sglang.srt.mem_cache.radix_cache:RadixCache", "base class of LookaheadRadixCache"),
    Seam("sglang.srt.layers.attention.attention_registry:register_attention_backend",
         "sgl-kernel-ext CPU attention backend"),
    Seam("sglang.srt.managers.schedule_policy:SchedulePolicy.calc_priority",
         "lookahead-aware waiting-queue order"),
    Seam("sglang.srt.managers.scheduler:Scheduler.get_prefill_adder_class",
         "background-work admission"),
    Seam("sglang.srt.managers.scheduler:run_scheduler_process", "scheduler process entry"),
    Seam("sglang.srt.managers.scheduler:Scheduler.ingest_requests",
         "drain agentrt's control channel once per scheduler loop"),
    Seam("sglang.srt.mem_cache.radix_cache:RadixCache.checkpoint",
         "protect branches / move session heads when requests are cached"),
    Seam("sglang.srt.mem_cache.radix_cache:RadixCache.release_aborted_request",
         "a branch's prefill aborted before it ran ends what waited for it"),
    Seam("sglang.srt.mem_cache.base_prefix_cache:BasePrefixCache.evict_for_alloc",
         "eviction for an allocation: pins yield when nothing else frees the memory"),
    Seam("sglang.srt.entrypoints.http_server:get_global_state",
         "the tokenizer manager, to tokenize /agentrt bodies with the served chat template"),
    Seam("sglang.srt.managers.tokenizer_manager:TokenizerManager.gracefully_exit",
         "the server is shutting down: agentrt's control calls end with 503 at once"),
    Seam("sglang.srt.managers.io_struct:TokenizedGenerateReqInput",
         "branch prefill requests the scheduler builds (scheduling/prefills.py)"),
    Seam("sglang.srt.managers.scheduler:Scheduler.process_input_requests",
         "branch prefills join SGLang's input path in the scheduler"),
    Seam("sglang.srt.managers.scheduler_components.output_streamer:"
         "SchedulerOutputStreamer.stream_output",
         "branch prefills send nothing to the detokenizer"),
    Seam("sglang.srt.managers.scheduler:Scheduler.run_batch", "observed step time"),
    Seam("sglang.srt.managers.scheduler:Scheduler.get_new_batch_prefill",
         "preemption of background prefill"),
    Seam("sglang.srt.managers.scheduler:Scheduler._should_defer_prefill",
         "decode steps while a chunked background prefill waits"),
    Seam("sglang.srt.managers.scheduler:Scheduler.abort_request",
         "preempting a chunked background prefill"),
    Seam("sglang.srt.managers.schedule_policy:AddReqResult", "background admission result"),
    Seam("sglang.srt.managers.scheduler:validate_input_length",
         "a prompt that would crash the model is aborted alone (scheduling/guard.py)"),
    Seam("sglang.srt.speculative.spec_info:SpeculativeAlgorithm.register",
         "--speculative-algorithm AGENTSAM (speculative/register.py)"),
    Seam("sglang.srt.speculative.spec_registry:CustomSpecAlgo", "base of AgentSamAlgo"),
    Seam("sglang.srt.speculative.spec_registry:get_spec", "the registered algorithm's spec"),
    Seam("sglang.srt.speculative.ngram_worker:NGRAMWorker._prepare_for_speculative_decoding",
         "AgentSamWorker(NGRAMWorker): the n-gram verify path with agentrt's drafter"),
    Seam("sglang.srt.speculative.ngram_worker:NGRAMWorker._prepare_draft_tokens",
         "AgentSamWorker: drafts from DrafterCorpus with an adaptive width"),
    Seam("sglang.srt.speculative.ngram_worker:NGRAMWorker.forward_batch_generation",
         "AgentSamWorker: plain decode steps when nothing is worth verifying"),
    Seam("sglang.srt.speculative.ngram_info:NgramVerifyInput", "the verify input AGENTSAM builds"),
    Seam("sglang.kernels.ops.speculative.reconstruct_tree:reconstruct_indices_from_tree_mask_func",
         "CPU verify path (sgl-kernel-ext sgl_kernel.speculative)"),
    Seam("sglang.kernels.ops.speculative.cache_locs:assign_extend_cache_locs_func",
         "CPU verify path: cache locations of the drafts"),
    Seam("sglang.srt.speculative.spec_utils:prepare_mamba_track_for_verify",
         "called on the verify path (a no-op for dense models)"),
    Seam("sglang.srt.managers.utils:GenerationBatchResult", "AgentSamWorker's plain steps"),
    Seam("sglang.srt.mem_cache.memory_pool:KVWriteLoc", "KV moves of accepted drafts"),
    Seam("sglang.srt.runtime_context:get_spec", "the speculative settings of the process"),
    Seam("sglang.srt.arg_groups.choices:add_attention_backend_choices",
         "--attention-backend agentrt_cpu is accepted"),
    Seam("sglang.srt.layers.attention.torch_native_backend:TorchNativeAttnBackend"
         "._run_sdpa_forward_extend", "base class of the agentrt_cpu attention backend"),
)

_ENDPOINT = "sglang.lang.backend.runtime_endpoint:RuntimeEndpoint"
FRONTEND_SEAMS: tuple[Seam, ...] = (   # checked by AgentrtBackend when a program's backend starts
    Seam(_ENDPOINT, "base of AgentrtBackend (frontend/backend.py)"),
    *(Seam(f"{_ENDPOINT}.{name}", f"AgentrtBackend overrides {name}")
      for name in ("_add_images", "generate", "generate_stream", "select",
                   "commit_lazy_operations", "fill_image", "end_program", "shutdown")),
    Seam("sglang.lang.backend.runtime_endpoint:http_request",
         "behind smg each request carries its routing key (frontend/routed_transport.py)"),
    Seam("sglang.lang.chat_template:get_chat_template", "the frontend template of a program"),
    Seam("sglang.lang.chat_template:ChatTemplate", "rendering messages as a program does"),
    Seam("sglang.lang.interpreter:ProgramState.__iadd__", "base of AgentProgramState: tool calls"),
    Seam("sglang.lang.interpreter:ProgramState.get_var", "AgentProgramState: ProgramError"),
    Seam("sglang.lang.interpreter:ProgramStateGroup", "forks of an AgentProgramState"),
    Seam("sglang.lang.interpreter:StreamExecutor.fork", "tagged forks of a program"),
    Seam("sglang.lang.ir:SglFunction", "base of AgentFunction (frontend/function.py)"),
    *(Seam(f"sglang.lang.ir:{name}", "a tool message appended to a program")
      for name in ("SglConstantText", "SglExprList", "SglRoleBegin", "SglRoleEnd")),
)
SEAMS = SEAMS + FRONTEND_SEAMS

RADIX_BACKEND = "agentrt_lookahead"
GUARD_HOOKS = (  # installed in every scheduler process, lookahead or not
    ("sglang.srt.managers.scheduler.validate_input_length",
     "agentrt.server.scheduling.guard:around_validate_input_length", "AROUND"),
)
SCHEDULER_HOOKS = (  # (target, hook, hook type name)
    ("sglang.srt.managers.scheduler.Scheduler.__init__",
     "agentrt.server.control.endpoint:after_scheduler_init", "AFTER"),
    ("sglang.srt.managers.scheduler.Scheduler.ingest_requests",
     "agentrt.server.control.endpoint:after_ingest_requests", "AFTER"),
    ("sglang.srt.managers.schedule_policy.SchedulePolicy.calc_priority",
     "agentrt.server.scheduling.hooks:around_calc_priority", "AROUND"),
    ("sglang.srt.managers.scheduler.Scheduler.get_prefill_adder_class",
     "agentrt.server.scheduling.hooks:after_get_prefill_adder_class", "AFTER"),
    ("sglang.srt.managers.scheduler.Scheduler.run_batch",
     "agentrt.server.scheduling.hooks:around_run_batch", "AROUND"),
    ("sglang.srt.managers.scheduler.Scheduler.get_new_batch_prefill",
     "agentrt.server.scheduling.hooks:around_get_new_batch_prefill", "AROUND"),
    ("sglang.srt.managers.scheduler.Scheduler._should_defer_prefill",
     "agentrt.server.scheduling.hooks:around_should_defer_prefill", "AROUND"),
    ("sglang.srt.managers.scheduler_components.output_streamer.SchedulerOutputStreamer"
     ".stream_output",
     "agentrt.server.scheduling.prefills:around_stream_output", "AROUND"),
)


class SeamProblem(NamedTuple):
    seam: Seam
    error: str


def resolve(target: str):
    module_name, _, attr_path = target.partition(":")
    obj = importlib.import_module(module_name)
    for part in attr_path.split("."):
        obj = getattr(obj, part)
    return obj


def installed_sglang_version() -> str | None:
    try:
        return metadata.version("sglang")
    except metadata.PackageNotFoundError:
        return None


def check_seams(seams: tuple[Seam, ...] | None = None) -> list[SeamProblem]:
    """Every problem that makes this SGLang unusable for agentrt (empty list: all good); the
    whole table unless ``seams`` names a part of it."""
    version = installed_sglang_version()
    if version != SGLANG_VERSION:
        found = "not installed" if version is None else f"version {version} is installed"
        return [SeamProblem(Seam("sglang", f"agentrt requires sglang=={SGLANG_VERSION}"),
                            f"sglang {found}; run `make setup`")]
    problems = []
    for seam in SEAMS if seams is None else seams:
        try:
            resolve(seam.target)
        except Exception as exc:  # ImportError, AttributeError, or an import-time failure
            problems.append(SeamProblem(seam, f"{type(exc).__name__}: {exc}"))
    return problems


def describe(problems: list[SeamProblem]) -> str:
    lines = ["agentrt cannot run on the installed SGLang:"]
    lines += [f"  - {p.seam.target} ({p.seam.purpose}): {p.error}" for p in problems]
    return "\n".join(lines)


def check_or_exit() -> None:
    """For `make setup`: exit 2 with the list of problems unless every seam resolves."""
    from agentrt.server.launch import cpu_defaults

    if not cpu_defaults.has_cuda():
        cpu_defaults.enable_cpu_engine()
    problems = check_seams()
    if problems:
        print(describe(problems), file=sys.stderr)
        raise SystemExit(2)


def register() -> None:
    """Entry point called by SGLang's load_plugins() in each of its processes."""
    from agentrt.config import AgentrtConfig
    from agentrt.server.launch import process_registry

    config = AgentrtConfig.current()
    if config is None:
        # Plain `sglang serve` with agentrt installed: stay out of the way.
        logger.info("agentrt plugin: not launched by agentrt serve; nothing registered")
        return
    record = process_registry.record_this_process(config.state_dir)
    # The whole table is checked where it is cheap: the HTTP process has imported all of SGLang
    # already (the launcher checked it before spawning anything). The scheduler resolves its own
    # seams below and fails the same loud way; the detokenizer uses none.
    problems = check_seams() if record.role == process_registry.ROLE_HTTP else []
    if problems:
        logger.critical(describe(problems))
        raise SystemExit(describe(problems))  # BaseException: SGLang's plugin loader re-raises it
    logger.info("agentrt plugin loaded in %s (pid %d)", record.role, record.pid)
    if record.role != process_registry.ROLE_DETOKENIZER:
        register_attention_backend()
        from agentrt.speculative.register import register_algorithm

        register_algorithm()   # --speculative-algorithm AGENTSAM (before ServerArgs resolve)
    if record.role == process_registry.ROLE_SCHEDULER:
        install_hooks(GUARD_HOOKS)
    if record.role == process_registry.ROLE_HTTP:
        from agentrt.server.http import routes

        routes.install(resolve("sglang.srt.entrypoints.http_server:app"), config)
    elif record.role != process_registry.ROLE_DETOKENIZER and config.lookahead:
        try:
            install_scheduler_seams(config)
        except (ImportError, AttributeError) as exc:
            message = f"agentrt cannot install its scheduler seams: {type(exc).__name__}: {exc}"
            logger.critical(message)
            raise SystemExit(message) from exc


def register_attention_backend() -> None:
    """`agentrt_cpu` (sgl-kernel-ext): a CLI choice everywhere, a factory in the registry.

    sgl-kernel-ext is installed on CPU machines only (on CUDA, SGLang's own kernels serve)."""
    try:
        from agentrt_kernels.sglang_backend import BACKEND_NAME, create_backend
    except ImportError as exc:
        logger.info("agentrt_cpu attention backend unavailable (%s)", exc)
        return

    choices = resolve("sglang.srt.arg_groups.choices:ATTENTION_BACKEND_CHOICES")
    if BACKEND_NAME not in choices:
        resolve("sglang.srt.arg_groups.choices:add_attention_backend_choices")([BACKEND_NAME])
    resolve("sglang.srt.layers.attention.attention_registry:register_attention_backend")(
        BACKEND_NAME)(create_backend)


def install_scheduler_seams(config) -> None:
    """In the scheduler: the radix-cache backend and the control-channel hooks."""
    def lookahead_cache_factory(ctx):
        from agentrt.radix.cache import LookaheadRadixCache
        from agentrt.radix.settings import LookaheadSettings

        vocab = ctx.model_config.vocab_size
        cache = LookaheadRadixCache(ctx.params, LookaheadSettings.from_config(config, vocab))
        if ctx.params.enable_metrics:
            from agentrt.server.metrics.ledger import export_ledger

            export_ledger(cache.ledger)   # on SGLang's /metrics beside its own
        return cache

    resolve("sglang.srt.mem_cache.registry:register_radix_cache_backend")(
        RADIX_BACKEND, lookahead_cache_factory)
    from agentrt.server.scheduling import hooks
    from agentrt.server.scheduling.policy import BgPolicy

    hooks.configure(BgPolicy.from_config(config))
    install_hooks(SCHEDULER_HOOKS)


def install_hooks(table) -> None:
    """Register each (target, "module:function", hook type name) with SGLang's HookRegistry."""
    from sglang.srt.plugins.hook_registry import HookRegistry, HookType

    for target, hook, kind in table:
        HookRegistry.register(target, resolve(hook), HookType[kind])
