from agentrt.server.launch.cli_args import flag_value, has_flag, with_default


def test_has_flag_both_spellings():
    assert has_flag(["--port", "1"], "--port")
    assert has_flag(["--port=1"], "--port")
    assert not has_flag(["--portal", "1"], "--port")


def test_flag_value_last_occurrence_and_aliases():
    argv = ["--model", "a", "--x", "--model-path=b"]
    assert flag_value(argv, "--model-path", "--model") == "b"
    assert flag_value(["--port"], "--port") is None
    assert flag_value([], "--port") is None


def test_with_default_never_overrides():
    assert with_default(["--dtype", "bfloat16"], "--dtype", "float32") == ["--dtype", "bfloat16"]
    assert with_default([], "--dtype", "float32") == ["--dtype", "float32"]
    assert with_default([], "--sleep-on-idle") == ["--sleep-on-idle"]
