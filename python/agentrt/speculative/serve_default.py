"""Whether `agentrt serve` speculates: ``--agentrt-speculative auto|off|agentsam``.

The live decode benchmark (``benchmark/decode/live.py``, results in benchmark/README.md) shows
AGENTSAM winning on the CPU with the embedded default model; nothing was measured elsewhere.
So ``auto`` (the default) turns it on exactly there:

| mode       | SGLang argv gets ``--speculative-algorithm AGENTSAM`` when                      |
|------------|----------------------------------------------------------------------------------|
| ``auto``   | no ``--speculative-algorithm`` was given, the device is the CPU, the model is the |
|            | embedded default (no ``--model-path``) and the attention backend is agentrt_cpu   |
| ``agentsam``| always (unless the same algorithm was already given)                            |
| ``off``    | never                                                                            |

Conflicts are refused (``ValueError``, one line): ``off`` or ``agentsam`` together with an
explicit ``--speculative-algorithm`` naming another algorithm. ``auto`` leaves an explicit
``--speculative-algorithm`` alone. AGENTSAM turns SGLang's overlap scheduler and mixed chunked
prefill off (register.py); the verify width defaults to 8 draft tokens.
"""
MODES = ("auto", "off", "agentsam")
ALGORITHM_FLAG = "--speculative-algorithm"


def _given(argv: list[str]) -> str | None:
    from agentrt.server.launch.cli_args import flag_value

    return flag_value(argv, ALGORITHM_FLAG)


def wins_here(argv: list[str], on_cpu: bool, default_model: bool) -> bool:
    """``auto``'s condition (module table); ``argv`` as SGLang will get it."""
    from agentrt.server.launch.cli_args import flag_value

    return on_cpu and default_model and flag_value(argv, "--attention-backend") == "agentrt_cpu"


def apply(argv: list[str], mode: str, on_cpu: bool, default_model: bool) -> list[str]:
    """``argv`` with the speculative flag ``mode`` asks for (module table)."""
    from agentrt.speculative.register import ALGORITHM

    if mode not in MODES:
        raise ValueError(f"--agentrt-speculative must be one of {', '.join(MODES)}, got {mode!r}")
    given = _given(argv)
    if mode == "off":
        if given is not None and given.upper() != "NONE":
            raise ValueError(f"--agentrt-speculative off conflicts with {ALGORITHM_FLAG} {given}")
        return argv
    if mode == "agentsam":
        if given is not None and given.upper() != ALGORITHM:
            raise ValueError(f"--agentrt-speculative agentsam conflicts with "
                             f"{ALGORITHM_FLAG} {given}")
        return argv if given is not None else argv + [ALGORITHM_FLAG, ALGORITHM]
    if given is None and wins_here(argv, on_cpu, default_model):
        return argv + [ALGORITHM_FLAG, ALGORITHM]
    return argv
