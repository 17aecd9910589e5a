"""``AgentSamWorker``: SGLang's n-gram speculative worker drafting from agentrt's drafter pool.

SGLang 0.5.23's ``NGRAMWorker`` (``srt/speculative/ngram_worker.py``) owns the whole verify step:
it asks ``self.ngram_corpus`` for drafts in the fixed n-slot layout, builds the tree metadata,
runs the target model in ``TARGET_VERIFY``, accepts greedily and moves the accepted tokens' KV.
This subclass changes only where the drafts come from:

| NGRAMWorker                         | AgentSamWorker                                         |
|-------------------------------------|--------------------------------------------------------|
| ``__init__`` builds ``NgramCorpus`` | builds ``DrafterCorpus`` (no C++ JIT, no external corpus) |
| corpus sees the last 18 tokens only | a request's drafter starts from its full prompt + output |
| drafts from a global trie           | per-request suffix automaton + cross-session store      |
| verifies n slots every step         | verifies only the slots the widest chosen draft needs   |

Adaptive width (``_prepare_for_speculative_decoding``): the drafter's width policy cuts each
draft to what is worth verifying (0 when the match is weak), and the step verifies
``k = 1 + widest draft`` slots (at most ``--speculative-num-draft-tokens``) instead of all n:

| what                          | this step (k slots)          | after the step              |
|-------------------------------|------------------------------|-----------------------------|
| tokens, mask, positions,      | built ``[bs, k]``            | -                           |
| retrieve_*                    |                              |                             |
| out_cache_loc                 | first k of the n KV slots    | rest stay reserved          |
|                               | the scheduler reserved       |                             |
| ``next_draft_input``          | k columns                    | padded back to n columns    |
| next token ids                | ``speculative_output_stride`` = k | -                      |

Step costs: every decode step is timed from the call to the result (drafting, forward and verify
bookkeeping) and reported to ``DrafterCorpus.observe_step`` with its width (``k - 1``; 0 for a
plain step), so the widths of later steps follow the costs measured on this machine
(``step_costs.py``); the fitted costs are logged every ``COST_LOG_EVERY`` steps.

Unused reserved slots stay the request's, as when drafts are rejected; SGLang frees them at
the request's release. ``self.draft_token_num`` is k only inside the decode step.

Speculation is exact by construction: the verify path accepts a draft token only when it equals
the target model's own greedy token. SGLang 0.5.23's CPU verify is greedy for *every* request
(``eagle_utils._verify_uses_greedy``; its NGRAM samples temperature > 0 requests greedily). So a
decode batch holding any non-greedy request takes ``_forward_plain_decode`` instead: no drafts,
one ordinary DECODE forward sampled by SGLang's sampler, reported in the spec result layout
(one accepted token per request). A greedy step whose drafts are all cut to width 0 (k = 1)
takes it too: the same forward as without speculation, minus the verify bookkeeping (the
drafters were brought up to date by that step's drafting, so it does not follow them again). Batches
asking for logprobs keep the verify path (its logprob bookkeeping), with a warning when they
also sample. On GPUs the verify mask is SGLang's full one (``_full_mask``; untested here).

| plain decode step | value                                                              |
|-------------------|--------------------------------------------------------------------|
| input token       | the request's last committed token (the verify root)               |
| KV slot           | ``req_to_token[r, seq_len]`` (the first reserved slot: no KV move) |
| seq_lens          | ``seq_len + 1`` during the forward only (decode counts the new token) |
| result            | accept_lens 1, new_seq_lens ``seq_len + 1``, tokens in column 0 of n |
"""
import logging
import time

import torch
from sglang.kernels.ops.speculative.cache_locs import assign_extend_cache_locs_func
from sglang.kernels.ops.speculative.reconstruct_tree import (
    reconstruct_indices_from_tree_mask_func)
from sglang.srt.model_executor.forward_batch_info import ForwardMode
from sglang.srt.runtime_context import get_device, get_schedule, get_spec
from sglang.srt.speculative.base_spec_worker import BaseSpecWorker
from sglang.srt.speculative.ngram_info import NgramVerifyInput
from sglang.srt.speculative.ngram_worker import NGRAMWorker
from sglang.srt.speculative.spec_utils import prepare_mamba_track_for_verify
from sglang.srt.utils import is_cpu

from agentrt.speculative.corpus import DrafterCorpus
from agentrt.speculative.drafter import DrafterConfig
from agentrt.speculative.policy import WidthPolicy

logger = logging.getLogger("agentrt.speculative")
_is_cpu = is_cpu()
COST_LOG_EVERY = 200


def drafter_config(num_slots: int) -> DrafterConfig:
    """Drafts of at most ``num_slots - 1`` nodes (slot 0 is the last committed token)."""
    width = max(1, num_slots - 1)
    return DrafterConfig(max_tokens=width, policy=WidthPolicy(max_width=width))


class AgentSamWorker(NGRAMWorker):
    """NGRAMWorker with ``ngram_corpus`` = ``DrafterCorpus`` (see the module table)."""

    def __init__(self, server_args, gpu_id, nccl_port, target_worker):
        """Overrides NGRAMWorker.__init__: the same attributes, agentrt's corpus.

        NGRAMWorker.__init__ is not called: it JIT-compiles and builds SGLang's own corpus.
        """
        BaseSpecWorker.__init__(self)
        spec = get_spec()
        self.server_args = server_args
        self.enable_overlap = not get_schedule().disable_overlap_schedule
        self._target_worker = target_worker
        self.model_runner = target_worker.model_runner
        self.page_size = get_schedule().page_size
        self.draft_token_num = spec.speculative_num_draft_tokens
        self.max_draft_token_num = self.draft_token_num
        self.speculative_num_draft_tokens = spec.speculative_num_draft_tokens
        self.max_trie_depth = spec.speculative_ngram_max_trie_depth
        self.topk = spec.speculative_eagle_topk
        self.speculative_num_steps = spec.speculative_num_steps
        self.device = get_device().device
        self.adaptive_controller = None
        self._prev_decode_rids: set = set()
        self.grammar_tree_host = None
        self._warned_sampling = False
        self._drafted = None          # this step's drafts, when drafted before the verify
        self.ngram_corpus = DrafterCorpus(self.draft_token_num,
                                          drafter_config(self.draft_token_num))
        logger.info("AGENTSAM worker: %d verify slots per request, overlap %s",
                    self.draft_token_num, "on" if self.enable_overlap else "off")

    # -- external corpora (SGLang's /add_external_corpus): not supported ----------------------
    def add_external_corpus(self, corpus_id, token_chunks):
        raise NotImplementedError("AGENTSAM has no external corpora (it learns from requests)")

    def commit_corpus_load(self, corpus_id, loaded_token_count):
        raise NotImplementedError("AGENTSAM has no external corpora")

    def remove_external_corpus(self, corpus_id):
        raise NotImplementedError("AGENTSAM has no external corpora")

    def list_external_corpora(self):
        return {}

    # -- drafting -------------------------------------------------------------------------------
    def _start_new_requests(self, batch) -> None:
        """A request new to the corpus starts from its full prompt + output."""
        corpus = self.ngram_corpus
        for req in batch.reqs:
            if req.rid not in corpus.pool:
                tokens = list(req.origin_input_ids_unpadded) + list(req.output_ids)
                session = req.session_id
                corpus.start(req.rid, tokens, group=session, session=session)

    def _tails(self, batch) -> tuple[list[list[int]], list[int]]:
        """Each request's last ``max_trie_depth`` committed tokens and its committed length."""
        depth, tails, totals = self.max_trie_depth, [], []
        for req in batch.reqs:
            context = list(req.origin_input_ids_unpadded[-depth:]) + list(req.output_ids[-depth:])
            tails.append(context[-depth:])
            totals.append(len(req.origin_input_ids_unpadded) + len(req.output_ids))
        return tails, totals

    def _full_mask(self, batch, mask, k: int) -> torch.Tensor:
        """GPU backends read SGLang's full verify mask: per request [k, seq_len + k], the
        committed prefix all visible, then the tree mask (``agentrt_cpu`` reads the tree only).
        Untested here: this machine has no GPU."""
        trees = torch.from_numpy(mask).view(len(batch.reqs), k, k)
        rows = [torch.cat([torch.ones((k, int(n)), dtype=torch.bool), trees[b]], dim=1).flatten()
                for b, n in enumerate(batch.seq_lens.tolist())]
        return torch.cat(rows).to(self.device, non_blocking=True)

    def _draft(self, batch) -> tuple:
        """(tokens, mask, k) for this decode step (``DrafterCorpus.batch_get_adaptive``)."""
        tails, totals = self._tails(batch)
        self.ngram_corpus.synchronize()
        return self.ngram_corpus.batch_get_adaptive([req.rid for req in batch.reqs], tails,
                                                    totals)

    def _prepare_draft_tokens(self, batch):
        """Overrides NGRAMWorker._prepare_draft_tokens (fixed-width path, kept for reference):
        new requests start from their full context, then NGRAMWorker asks ``batch_get``."""
        self._start_new_requests(batch)
        return super()._prepare_draft_tokens(batch)

    def _prepare_for_speculative_decoding(self, batch):
        """Overrides NGRAMWorker._prepare_for_speculative_decoding: same verify inputs, built
        for the step's adaptive width k (module table). Overlap is off (AGENTSAM requires it),
        so each request's committed tokens are all in ``origin_input_ids + output_ids``."""
        if not batch.forward_mode.is_decode():
            return
        self._start_new_requests(batch)
        if not self._warned_sampling and not batch.sampling_info.is_all_greedy:
            self._warned_sampling = True
            logger.warning("AGENTSAM: sampled requests asking for logprobs are verified "
                           "greedily on this device (SGLang's CPU verify is greedy-only)")
        bs = len(batch.reqs)
        tokens, mask, k = self._drafted if self._drafted is not None else self._draft(batch)
        self.draft_token_num = k
        self.grammar_tree_host = (mask, tokens) if batch.has_grammar else None

        draft_tokens = torch.from_numpy(tokens).to(self.device)
        tree_mask = torch.from_numpy(mask).to(self.device)
        positions = torch.empty(bs * k, dtype=torch.int64, device=self.device)
        retrieve = [torch.empty((bs, k), dtype=torch.int64, device=self.device)
                    for _ in range(3)]
        reconstruct_indices_from_tree_mask_func(tree_mask, batch.seq_lens, positions, *retrieve,
                                                bs, k)
        if not _is_cpu:
            tree_mask = self._full_mask(batch, mask, k)
        batch.forward_mode = ForwardMode.TARGET_VERIFY
        batch.input_ids = draft_tokens
        batch.out_cache_loc = assign_extend_cache_locs_func(
            req_pool_indices=batch.req_pool_indices,
            req_to_token=batch.req_to_token_pool.req_to_token, start_offset=batch.seq_lens,
            end_offset=batch.seq_lens + k, batch_size=bs, draft_token_num=k,
            device=self.device)
        prepare_mamba_track_for_verify(batch)
        batch.spec_info = NgramVerifyInput(
            draft_token=draft_tokens, custom_mask=tree_mask, positions=positions,
            retrieve_index=retrieve[0], retrieve_next_token=retrieve[1],
            retrieve_next_sibling=retrieve[2], draft_token_num=k)

    def forward_batch_generation(self, batch, on_publish=None, pp_proxy_tensors=None):
        """Overrides NGRAMWorker.forward_batch_generation: runs it at the step's width k, then
        hands the scheduler a result in the n-column layout it keeps between steps."""
        n, t0 = self.max_draft_token_num, time.perf_counter()
        timed = batch.forward_mode.is_decode()
        if timed and not batch.return_logprob and pp_proxy_tensors is None:
            if not batch.sampling_info.is_all_greedy:
                return self._timed(batch, 1, t0, self._forward_plain_decode(batch, on_publish))
            self._start_new_requests(batch)
            self._drafted = self._draft(batch)
            if self._drafted[2] == 1:       # no request has a draft worth verifying
                self._drafted = None
                return self._timed(batch, 1, t0,
                                   self._forward_plain_decode(batch, on_publish, synced=True))
        try:
            result = super().forward_batch_generation(batch, on_publish, pp_proxy_tensors)
            k = self.draft_token_num
        finally:
            self.draft_token_num = n
            self._drafted = None
        if timed:
            self._timed(batch, k, t0, result)
        if k != n and result.accept_lens is not None:
            result.speculative_output_stride = k
            nxt = result.next_draft_input
            padded = torch.zeros((len(batch.reqs), n), dtype=nxt.accept_tokens.dtype,
                                 device=nxt.accept_tokens.device)
            padded[:, :k] = nxt.accept_tokens.reshape(-1, k)
            result.next_draft_input = NgramVerifyInput(
                draft_token_num=n, new_seq_lens=nxt.new_seq_lens,
                accept_tokens=padded.flatten(), accept_lens=nxt.accept_lens)
        return result


    def _timed(self, batch, slots: int, t0: float, result):
        """Report the decode step that started at ``t0`` to the corpus's step costs (width
        ``slots - 1``, drafting included); log the fitted costs every ``COST_LOG_EVERY``."""
        corpus = self.ngram_corpus
        corpus.observe_step(len(batch.reqs), slots - 1, 1000 * (time.perf_counter() - t0))
        if sum(corpus.step_costs.steps) % COST_LOG_EVERY == 0:
            logger.info("AGENTSAM step costs: %s", corpus.step_costs.summary())
        return result

    def _forward_plain_decode(self, batch, on_publish, synced: bool = False):
        """One ordinary sampled DECODE step in the spec result layout (module table).
        ``synced``: this step's drafting already brought every drafter up to date."""
        from sglang.srt.managers.utils import GenerationBatchResult

        n, bs = self.max_draft_token_num, len(batch.reqs)
        if not synced:
            self._start_new_requests(batch)
            tails, totals = self._tails(batch)
            self.ngram_corpus.follow([req.rid for req in batch.reqs], tails, totals)
        seq_lens = batch.seq_lens
        saved = (batch.seq_lens, batch.seq_lens_cpu, batch.seq_lens_sum, batch.spec_info)
        batch.input_ids = torch.tensor([_last_token(req) for req in batch.reqs],
                                       dtype=torch.int64, device=self.device)
        batch.out_cache_loc = assign_extend_cache_locs_func(
            req_pool_indices=batch.req_pool_indices,
            req_to_token=batch.req_to_token_pool.req_to_token, start_offset=seq_lens,
            end_offset=seq_lens + 1, batch_size=bs, draft_token_num=1, device=self.device)
        batch.seq_lens = seq_lens + 1
        batch.seq_lens_cpu = None if saved[1] is None else saved[1] + 1
        batch.seq_lens_sum = None
        batch.spec_info = None
        try:
            out = self.target_worker.forward_batch_generation(batch)
        finally:
            batch.seq_lens, batch.seq_lens_cpu, batch.seq_lens_sum, batch.spec_info = saved
        new_seq_lens = seq_lens + 1
        accept_lens = torch.ones(bs, dtype=torch.int32, device=self.device)
        accept_tokens = torch.zeros((bs, n), dtype=torch.int32, device=self.device)
        accept_tokens[:, 0] = out.next_token_ids
        accept_tokens = accept_tokens.flatten()
        if on_publish is not None:
            on_publish(new_seq_lens)
        self._erase_departed(batch)
        return GenerationBatchResult(
            logits_output=out.logits_output, next_token_ids=accept_tokens,
            can_run_cuda_graph=out.can_run_cuda_graph, accept_lens=accept_lens,
            new_seq_lens=new_seq_lens,
            next_draft_input=NgramVerifyInput(draft_token_num=n, new_seq_lens=new_seq_lens,
                                              accept_tokens=accept_tokens,
                                              accept_lens=accept_lens),
            speculative_num_draft_tokens=n)

    def _erase_departed(self, batch) -> None:
        """As NGRAMWorker does after a verify: finish requests that left the decode batch."""
        current = {req.rid for req in batch.reqs}
        departed = self._prev_decode_rids - current
        if departed:
            self.ngram_corpus.erase_match_state(list(departed))
        self._prev_decode_rids = current


def _last_token(req) -> int:
    """A request's last committed token (overlap is off: all are in its id lists)."""
    return req.output_ids[-1] if req.output_ids else req.origin_input_ids_unpadded[-1]


def worker_factory(server_args):
    """The factory SGLang's registry calls (``CustomSpecAlgo.create_worker``)."""
    del server_args
    return AgentSamWorker
