"""AgentSamWorker._full_mask: the GPU verify-mask layout (per request [k, seq_len + k])."""
import os
from types import SimpleNamespace

import numpy as np
import torch

os.environ.setdefault("SGLANG_USE_CPU_ENGINE", "1")


def test_full_mask_is_prefix_ones_then_the_tree():
    from agentrt.speculative.worker import AgentSamWorker

    worker = AgentSamWorker.__new__(AgentSamWorker)
    worker.device = "cpu"
    k = 2
    trees = np.array([[[1, 0], [1, 1]], [[1, 0], [0, 1]]], dtype=bool)
    batch = SimpleNamespace(reqs=[0, 1], seq_lens=torch.tensor([3, 1]))
    got = worker._full_mask(batch, trees.reshape(-1), k).tolist()
    want = [1, 1, 1, 1, 0,  1, 1, 1, 1, 1,      # request 0: 3 prefix ones + its tree row
            1, 1, 0,  1, 0, 1]                  # request 1: 1 prefix one + its tree row
    assert got == [bool(v) for v in want]
