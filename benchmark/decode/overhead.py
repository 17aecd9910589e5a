"""Drafter overhead per decode step on prose: the corpus call a served step makes, timed alone.

``python -m benchmark.decode.overhead [--batch 1,4] [--slots 8]``

Feeds a prose passage (never seen in the prompt: a story prompt of ``live_workloads``, then
``PROSE``) one token per step to ``DrafterCorpus.batch_get_adaptive`` as the worker calls it
(every request of the batch extends by one token a step, plain decoding), with the worker's
drafter config. Prints per-step time (mean, p50, p99) and how many steps would verify drafts
(slots > 1) under the prior step costs. No server, no model: the drafter's own cost only.
"""
import argparse
import statistics
import sys
import time

from agentrt.speculative.corpus import DrafterCorpus
from agentrt.speculative.worker import drafter_config
from benchmark.decode.live_workloads import TOPICS, story
from benchmark.decode.segments import default_encoder

PROSE = """The lighthouse stood on a spur of black rock where the sea had chewed the cliffs into
ragged teeth. Mara had kept its lamp for eleven winters, trimming wicks, polishing brass, logging
every ship that slid past in the fog. She knew the moods of the water the way a sailor knows the
creak of a hull. One evening, while sweeping sand from the stairwell, she found a folded paper
wedged behind a loose stone. It was brittle and yellow, stained at one corner with something that
might have been tea or blood. When she opened it beneath the lantern, she saw coastlines she did
not recognize, islands drawn in faded violet ink, and a dotted path that curled like a question
toward a place marked only with a tiny painted eye. Her heart quickened. Who had hidden it here,
and why had no keeper before her noticed? The wind rattled the windows as if impatient. Outside,
gulls wheeled against a bruised sky. Mara traced the path with a trembling finger and felt, for
the first time in years, the pull of somewhere else. At dawn she rowed out past the breakers,
the map sealed in oilcloth against her chest. Fishermen waved from their boats, puzzled, but she
did not stop. By noon the familiar shore had shrunk to a grey thread. The water turned a strange
green, then almost black, and a warm current tugged the little boat eastward. She remembered her
grandmother's stories about islands that appeared only to those who were truly lost, and she
laughed aloud, because she had never felt less lost in her life. Late in the afternoon a shape
rose from the haze: cliffs shaped like a sleeping animal, a beach of pale shells, and above it
all, carved into the rock, an enormous eye that seemed to blink as clouds crossed the sun."""


def measure(encode, batch: int, slots: int) -> dict:
    """Per-step seconds and slots of ``batch`` requests decoding ``PROSE`` (module rule)."""
    corpus = DrafterCorpus(slots, drafter_config(slots))
    contexts = [list(encode(story(t))) for t in TOPICS[:batch]]
    rids = list(range(batch))
    times, used = [], []
    for token in encode(PROSE):
        for c in contexts:
            c.append(token)
        t0 = time.perf_counter()
        *_, k = corpus.batch_get_adaptive(rids, [c[-18:] for c in contexts],
                                          [len(c) for c in contexts])
        times.append(time.perf_counter() - t0)
        used.append(k)
    times.sort()
    return {"batch": batch, "steps": len(times), "mean_us": 1e6 * statistics.mean(times),
            "p50_us": 1e6 * times[len(times) // 2], "p99_us": 1e6 * times[int(0.99 * len(times))],
            "verify_steps": sum(k > 1 for k in used)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", default="1,4")
    ap.add_argument("--slots", type=int, default=8)
    args = ap.parse_args(argv)
    encode = default_encoder()
    for batch in (int(b) for b in args.batch.split(",")):
        r = measure(encode, batch, args.slots)
        print(f"batch {r['batch']}: {r['steps']} steps, drafter {r['mean_us']:.0f} us mean, "
              f"{r['p50_us']:.0f} us p50, {r['p99_us']:.0f} us p99 per step; "
              f"{r['verify_steps']} steps would verify drafts")
    return 0


if __name__ == "__main__":
    sys.exit(main())
