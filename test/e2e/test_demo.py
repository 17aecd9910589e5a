"""`make demo`'s program end to end: default model, real server, real tools, clean shutdown."""
import re
import subprocess
import sys

import psutil


def test_demo_runs_on_the_default_model():
    out = subprocess.run([sys.executable, "-m", "agentrt.demo", "--reads", "2", "--max-tokens",
                          "24"], capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    turns = re.findall(r"prompt (\d+) tokens \((\d+) cached\) \| TTFT (\d+) ms", out.stdout)
    assert len(turns) == 4
    blocks = out.stdout.split("── turn ")[1:]
    answers = [" ".join(re.findall(r"^   > (.*)$", block, flags=re.M)) for block in blocks]
    # the default model writes English: mostly letters and spaces, several words per answer
    for answer in answers:
        letters = sum(c.isalpha() or c.isspace() for c in answer)
        assert len(answer.split()) >= 4 and letters / len(answer) > 0.8, answer
    assert "demo: server stopped" in out.stdout
    leftovers = [p for p in psutil.process_iter(["cmdline"])
                 if "agentrt.launch_server" in " ".join(p.info["cmdline"] or [])]
    assert leftovers == []
