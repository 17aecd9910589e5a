"""AgentSAM speculative decoding: drafter core (pure logic, no SGLang imports).

| module | what it is |
|---|---|
| draft.py | `Draft`: a draft tree (tokens, parents-first parent indices, path probabilities) |
| expand.py | `expand`: best-first growth of a draft tree from any source's continuation counts |
| automaton.py | `SuffixAutomaton`: per-request suffix automaton, incremental, proposes drafts |
| reference.py | naive brute-force reference of the automaton's rules (tests only) |
"""
from agentrt.speculative.automaton import SuffixAutomaton
from agentrt.speculative.draft import EMPTY, Draft

__all__ = ["Draft", "EMPTY", "SuffixAutomaton"]
