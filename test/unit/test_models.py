import json

import pytest

from agentrt import models


def make_prepared(folder, files):
    folder.mkdir(parents=True)
    entries = {}
    for name, data in files.items():
        (folder / name).write_bytes(data)
        entries[name] = {"size": len(data), "sha256": models.sha256_file(folder / name)}
    (folder / models.MANIFEST).write_text(json.dumps({"files": entries}))


def test_verify_accepts_intact_and_rejects_tampered(tmp_path):
    folder = tmp_path / "m"
    make_prepared(folder, {"config.json": b"{}", "model.safetensors": b"abcd"})
    assert models.verify(folder)
    (folder / "model.safetensors").write_bytes(b"abce")  # same size, other content
    assert not models.verify(folder)
    (folder / "model.safetensors").unlink()
    assert not models.verify(folder)
    assert not models.verify(tmp_path / "nothing-here")


def test_prepared_model_is_reused_without_conversion(tmp_path, monkeypatch):
    make_prepared(models.model_dir(str(tmp_path)), {"config.json": b"{}"})
    monkeypatch.setattr(models, "_convert", lambda *a: pytest.fail("must not convert again"))
    assert models.prepare_default_model(str(tmp_path)) == models.model_dir(str(tmp_path))


def test_unwritable_cache_dir_is_a_clear_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(models.ModelError, match="not writable"):
        models.prepare_default_model(str(blocker / "cache"))


def test_checksum_mismatch_refuses(tmp_path, monkeypatch):
    fake = tmp_path / "fake.gguf"
    fake.write_bytes(b"not the model")
    monkeypatch.setattr(models, "source_gguf", lambda: fake)
    with pytest.raises(models.ModelError, match="checksum mismatch"):
        models.prepare_default_model(str(tmp_path / "cache"))


def test_source_package_is_installed_and_matches():
    path = models.source_gguf()
    assert path.name == models.SOURCE_FILE
    assert path.stat().st_size > 90_000_000
