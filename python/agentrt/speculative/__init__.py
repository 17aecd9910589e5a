"""AgentSAM speculative decoding: drafter core (pure logic; layout.py and corpus.py use numpy).

| module | what it is |
|---|---|
| draft.py | `Draft`: a draft tree (tokens, parents-first parent indices, path probabilities) |
| expand.py | `expand`: best-first growth of a draft tree from any source's continuation counts |
| automaton.py | `SuffixAutomaton`: per-request suffix automaton, incremental, proposes drafts |
| store.py | `SequenceStore`: finished sequences across sessions, LRU in a byte budget, drafts |
| policy.py | `WidthPolicy`, `decide`, `choose_batch_width`: verify width from match length, frequencies, step costs |
| drafter.py | `RequestDrafter` (automaton + store + policy), `DrafterPool` (the worker's API) |
| layout.py | `pack_batch`: drafts in SGLang's n-gram verify layout (root slot, flat masks) |
| corpus.py | `DrafterCorpus`: the pool behind the calls SGLang's n-gram worker makes |
| calibration.py | `AcceptanceTracker`: acceptance rate by matched length, learned per request |
| step_costs.py | `StepCostMeter`: plain and verify step costs measured online, for the width policy |
| reference.py | naive brute-force reference of the automaton's rules (tests only) |
| worker.py | `AgentSamWorker(NGRAMWorker)`: SGLang's verify step drafting from `DrafterCorpus` |
| register.py | `register_algorithm()`: `--speculative-algorithm AGENTSAM` in SGLang's registry |
| serve_default.py | `--agentrt-speculative auto\|off\|agentsam`: where `agentrt serve` speculates |

Only worker.py and register.py import SGLang; this package face does not import them.
"""
from agentrt.speculative.automaton import SuffixAutomaton
from agentrt.speculative.calibration import AcceptanceTracker
from agentrt.speculative.corpus import DrafterCorpus
from agentrt.speculative.draft import EMPTY, Draft
from agentrt.speculative.drafter import DrafterConfig, DrafterPool, Proposal, RequestDrafter
from agentrt.speculative.policy import StepCost, Width, WidthPolicy, decide
from agentrt.speculative.step_costs import StepCostMeter
from agentrt.speculative.store import SequenceStore, StoreConfig

__all__ = ["AcceptanceTracker", "Draft", "DrafterConfig", "DrafterCorpus", "DrafterPool", "EMPTY",
           "Proposal", "RequestDrafter", "SequenceStore", "StepCost", "StepCostMeter", "StoreConfig",
           "SuffixAutomaton", "Width", "WidthPolicy", "decide"]
