"""Only radix/branch.py (BranchBook) assigns branch and session fields: an AST check over every
agentrt module. A field is any dataclass field of Branch or Session; ``self.<field>`` is a
class's own attribute and ``self.state.<field>`` the lookahead runtime's MainState."""
import ast
import dataclasses
from pathlib import Path

import agentrt
from agentrt.radix.branch import Branch, Session

FIELDS = {f.name for cls in (Branch, Session) for f in dataclasses.fields(cls)} - {"id"}
OWNER = Path(agentrt.__file__).parent / "radix" / "branch.py"
NOT_BRANCHES = {"self", "self.state"}


def _targets(node):
    if isinstance(node, (ast.Tuple, ast.List)):
        for elt in node.elts:
            yield from _targets(elt)
    elif isinstance(node, ast.Starred):
        yield from _targets(node.value)
    else:
        yield node


def field_writes(tree: ast.AST):
    for node in ast.walk(tree):
        targets = node.targets if isinstance(node, ast.Assign) else \
            [node.target] if isinstance(node, (ast.AugAssign, ast.AnnAssign)) else []
        for target in (t for raw in targets for t in _targets(raw)):
            if isinstance(target, ast.Attribute) and target.attr in FIELDS and \
                    ast.unparse(target.value) not in NOT_BRANCHES:
                yield node.lineno, ast.unparse(target)
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "setattr" and \
                len(node.args) > 1 and isinstance(node.args[1], ast.Constant) and \
                node.args[1].value in FIELDS:
            yield node.lineno, ast.unparse(node)


def test_no_module_but_branch_py_assigns_branch_or_session_fields():
    found = []
    for path in sorted(Path(agentrt.__file__).parent.rglob("*.py")):
        if path != OWNER:
            found += [f"{path.name}:{line}: {text}"
                      for line, text in field_writes(ast.parse(path.read_text()))]
    assert found == []


def test_the_check_sees_direct_and_tuple_writes():
    code = ("branch.state = 1\nb.node, s.context = 2, 3\nsession.branches += [4]\n"
            "self.tokens = 5\nsetattr(branch, 'state', 6)\nsetattr(x, 'other', 7)")
    assert [text for _, text in field_writes(ast.parse(code))] == \
        ["branch.state", "b.node", "s.context", "session.branches",
         "setattr(branch, 'state', 6)"]
