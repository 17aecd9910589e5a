"""A turn progress bar on stderr for one system's replay: turns done / total, elapsed, rate.

Uses tqdm (pinned in requirements/cpu.txt, already a dependency of SGLang's environment).

    with turn_bar("agentrt", total=len(traces) * steps) as bar:
        ...; bar.update(1)          # after every finished turn
"""
import sys

from tqdm import tqdm

BAR_FORMAT = "{desc}: {n_fmt}/{total_fmt} turns |{bar}| {elapsed} elapsed, {rate_fmt}"


def turn_bar(system: str, total: int, file=None) -> tqdm:
    return tqdm(total=total, desc=system, unit="turn", file=file or sys.stderr,
                bar_format=BAR_FORMAT, dynamic_ncols=True, mininterval=0.5)
