"""CI check: no defaulted ``getattr`` on SGLang objects. agentrt reads SGLang's attributes
directly and lists them in server/scheduling/sglang_objects.py, checked at start-up; a default
would turn an SGLang rename into a silent wrong value. The few defaulted reads left are of
objects that are not SGLang's, each listed here with the reason."""
import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "python" / "agentrt"
ALLOWED = {  # (file, object expression) -> why a default is right there
    ("server/http/fields.py", "kind"): "a Python type or a tuple of them",
    ("frontend/routed_transport.py", "_local"): "agentrt's own threading.local",
    ("models.py", "tokenizer"): "a Hugging Face tokenizer (chat_template is optional)",
    ("radix/integrity.py", "cache"): "a RadixCache or agentrt's LookaheadRadixCache (holders)",
    ("frontend/function.py", "s"): "SGLang frontend state: a program may run on any backend",
    ("frontend/function.py", "executor"): "SGLang frontend executor of any backend",
    ("frontend/function.py", "state.stream_executor.backend"): "any frontend backend",
    ("frontend/backend.py", "sampling_params"): "SGLang frontend sampling parameters, whose "
                                                "fields differ across frontend versions",
}


def defaulted_getattrs():
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                    and node.func.id == "getattr" and len(node.args) == 3:
                yield str(path.relative_to(PACKAGE)), ast.unparse(node.args[0]), node.lineno


def test_no_defaulted_getattr_outside_the_allowed_list():
    found = [(f, obj, line) for f, obj, line in defaulted_getattrs() if (f, obj) not in ALLOWED]
    assert found == [], \
        "read SGLang attributes directly (server/scheduling/sglang_objects.py): " + ", ".join(
            f"{f}:{line} getattr({obj}, ..., default)" for f, obj, line in found)


def test_the_scanner_finds_defaulted_getattrs():
    assert ("server/http/fields.py", "kind") in {(f, o) for f, o, _ in defaulted_getattrs()}
