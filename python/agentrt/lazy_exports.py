"""One rule for package faces: a package exports a table of public names, each resolved from its
submodule on first use (PEP 562), so importing a pure submodule never imports a heavy one."""
import importlib


def lazy_exports(package: str, exports: dict[str, str], namespace: dict):
    """``(__getattr__, __dir__)`` for ``package``: ``exports`` maps a public name to the
    submodule (relative to the package) that defines it; a resolved name is cached in
    ``namespace`` (the package's globals)."""
    def __getattr__(name: str):
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        namespace[name] = value
        return value

    def __dir__():
        return sorted(set(namespace) | set(exports))
    return __getattr__, __dir__
