"""The trained Rasa model: named by a hash of its training data, trained only when that data changed."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

from settings import PROJECT_ROOT, Settings

TRAINING_FILES = ("config.yml", "bot/domain.yml")
TRAINING_DIRS = ("bot/data",)
KEEP_MODELS = 3


def training_files() -> list[Path]:
    files = [PROJECT_ROOT / f for f in TRAINING_FILES]
    for folder in TRAINING_DIRS:
        files += sorted((PROJECT_ROOT / folder).rglob("*.yml"))
    return files


def training_hash() -> str:
    digest = hashlib.sha256()
    for path in training_files():
        digest.update(str(path.relative_to(PROJECT_ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def model_path(settings: Settings) -> Path:
    """Where the model for the current training data is (or will be)."""
    return settings.models_dir / f"citydesk-{training_hash()}.tar.gz"


def ensure_trained(settings: Settings, *, force: bool = False) -> tuple[Path, bool]:
    """The current model, training it first if the data changed; returns (path, trained now)."""
    path = model_path(settings)
    if path.exists() and not force:
        return path, False
    if not settings.rasa_executable.exists():
        raise FileNotFoundError(f"{settings.rasa_executable} not found: run `make setup` first")
    settings.models_dir.mkdir(parents=True, exist_ok=True)
    command = [str(settings.rasa_executable), "train", "--config", "config.yml", "--domain", "bot/domain.yml",
               "--data", "bot/data", "--out", str(settings.models_dir), "--fixed-model-name", path.name[:-7]]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "RASA_TELEMETRY_ENABLED": "false"}
    subprocess.run(command, cwd=PROJECT_ROOT, env=env, check=True)
    _prune(settings.models_dir, keep=path)
    return path, True


def _prune(folder: Path, *, keep: Path) -> None:
    """Delete all but the newest few models, so that the folder does not grow forever."""
    models = sorted(folder.glob("citydesk-*.tar.gz"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in [m for m in models if m != keep][KEEP_MODELS - 1:]:
        old.unlink(missing_ok=True)
