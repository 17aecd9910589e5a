"""`make demo`'s program end to end: default model, real server, real tools, clean shutdown."""
import re
import subprocess
import sys

import psutil


def test_demo_runs_on_the_default_model():
    out = subprocess.run([sys.executable, "-m", "agentrt.demo", "--reads", "3", "--max-tokens",
                          "24", "--budget-tokens", "1700", "--policy", "clear",
                          "--tool-latency-ms", "3000"], capture_output=True, text=True,
                         timeout=900)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    # prompt, cached, TTFT of the synchronous runs before and after the lookahead one, lookahead
    rows = re.findall(r"^(\d+) .* (\d+) +(\d+) +(\d+)ms +(\d+)ms +(\d+)ms", out.stdout,
                      flags=re.M)
    assert len(rows) == 5, out.stdout
    answers = [" ".join(re.findall(r"^   > (.*)$", block, flags=re.M))
               for block in re.split(r"^\d+ ", out.stdout, flags=re.M)[1:]]
    # the default model writes English: mostly letters and spaces, several words per answer
    for answer in answers:
        letters = sum(c.isalpha() or c.isspace() for c in answer)
        assert len(answer.split()) >= 4 and letters / len(answer) > 0.8, answer
    assert re.search(r"commit turn \d+: TTFT \d+ ms synchronous \(mean of the runs\) vs "
                     r"\d+ ms with lookahead", out.stdout), out.stdout
    assert "demo: server stopped" in out.stdout
    leftovers = [p for p in psutil.process_iter(["cmdline"])
                 if "agentrt.launch_server" in " ".join(p.info["cmdline"] or [])]
    assert leftovers == []
