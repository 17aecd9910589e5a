"""docs/structures.md's walk of one lookahead names real code: every ``file.py:function`` hop
resolves to a function (or method) defined in a module whose path ends with that file."""
import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "python" / "agentrt"
HOP = re.compile(r"`([\w/]+\.py):([\w.]+)")


def _walk_text() -> str:
    text = (ROOT / "docs" / "structures.md").read_text()
    start = text.index("## The walk of one lookahead")
    return text[start:text.index("\n## ", start + 1)]


def _defined(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


def test_every_hop_of_the_walk_is_defined_where_it_says():
    hops = HOP.findall(_walk_text())
    assert len(hops) >= 30
    files = list(PACKAGE.rglob("*.py"))
    missing = []
    for file, name in hops:
        candidates = [f for f in files if str(f).endswith("/" + file)]
        last = name.split(".")[-1]
        if not any(last in _defined(f) for f in candidates):
            missing.append(f"{file}:{name}")
    assert missing == []
