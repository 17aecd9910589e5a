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

Speculation is exact by construction: the verify path accepts a draft token only when it equals
the target model's own greedy token. SGLang's CPU verify is greedy for every request.
"""
import logging

from sglang.srt.runtime_context import get_device, get_schedule, get_spec
from sglang.srt.speculative.base_spec_worker import BaseSpecWorker
from sglang.srt.speculative.ngram_worker import NGRAMWorker

from agentrt.speculative.corpus import DrafterCorpus
from agentrt.speculative.drafter import DrafterConfig
from agentrt.speculative.policy import WidthPolicy

logger = logging.getLogger("agentrt.speculative")


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
        self.speculative_num_draft_tokens = spec.speculative_num_draft_tokens
        self.max_trie_depth = spec.speculative_ngram_max_trie_depth
        self.topk = spec.speculative_eagle_topk
        self.speculative_num_steps = spec.speculative_num_steps
        self.device = get_device().device
        self.adaptive_controller = None
        self._prev_decode_rids: set = set()
        self.grammar_tree_host = None
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
    def _prepare_draft_tokens(self, batch):
        """Overrides NGRAMWorker._prepare_draft_tokens: a request new to the corpus starts from
        its full prompt + output, then NGRAMWorker asks ``batch_get`` with the usual tails."""
        corpus = self.ngram_corpus
        for req in batch.reqs:
            if req.rid not in corpus.pool:
                tokens = list(req.origin_input_ids_unpadded) + list(req.output_ids)
                session = getattr(req, "session_id", None)
                corpus.start(req.rid, tokens, group=session, session=session)
        return super()._prepare_draft_tokens(batch)


def worker_factory(server_args):
    """The factory SGLang's registry calls (``CustomSpecAlgo.create_worker``)."""
    del server_args
    return AgentSamWorker
