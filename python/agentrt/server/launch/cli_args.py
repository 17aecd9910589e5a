"""Tiny helpers to read and extend an SGLang argv list without parsing all of SGLang's flags."""


def has_flag(argv: list[str], *names: str) -> bool:
    return any(a == n or a.startswith(n + "=") for a in argv for n in names)


def flag_value(argv: list[str], *names: str) -> str | None:
    """Value of the last occurrence of any of ``names`` (``--x v`` or ``--x=v``), else None."""
    value = None
    for i, arg in enumerate(argv):
        for name in names:
            if arg == name and i + 1 < len(argv):
                value = argv[i + 1]
            elif arg.startswith(name + "="):
                value = arg.split("=", 1)[1]
    return value


def with_default(argv: list[str], name: str, value: str | None = None) -> list[str]:
    """Append ``name [value]`` unless the flag is already present."""
    if has_flag(argv, name):
        return argv
    return argv + ([name] if value is None else [name, value])
