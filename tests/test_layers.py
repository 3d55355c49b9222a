"""Tests follow the layers too: the tests of a package import nothing above it, as the packages do.

The order is the layers contract of `[tool.importlinter]` in pyproject.toml. A folder named after a package
(tests/handoff, ...) may import that package, the packages below it, and the test modules of those packages'
folders (tests.knowledge_base.conftest counts as knowledge_base); siblings joined by "|" stay independent, as in
the contract. The modules every folder loads or uses (tests/conftest.py, tests/support.py, tests/fakes/) import
only settings and the database. Folders named after no package (e2e, browser, postgresql, bot, scale) cut across the
layers: they may import anything, and no package's tests may import them.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import tomllib

TESTS = Path(__file__).resolve().parent
PYPROJECT = TESTS.parent / "pyproject.toml"
SHARED_FOLDERS = frozenset({"fakes"})  # local stand-ins of outside services, used by the tests of every layer
# the whole desk, in real processes or servers
CROSS_CUTTING = frozenset({"e2e", "browser", "postgresql", "bot", "scale"})
SHARED_MAY_IMPORT = frozenset({"settings", "database"})  # what the shared test modules may import of the packages


@dataclass(frozen=True)
class Layers:
    """The layers contract: each package's layer (0 = the top), and whether it is independent of its siblings."""

    rank: dict[str, int]
    independent: dict[str, bool]

    def allows(self, importer: str, imported: str) -> bool:
        """May the package `importer` (or its tests) import `imported`?"""
        if imported == importer or self.rank[imported] > self.rank[importer]:
            return True
        return self.rank[imported] == self.rank[importer] and not self.independent[importer]


def read_layers(pyproject: Path = PYPROJECT) -> Layers:
    """The packages of the `layers` contract in pyproject.toml, top layer first."""
    config = tomllib.loads(pyproject.read_text(encoding="utf-8"))["tool"]["importlinter"]
    [contract] = [c for c in config["contracts"] if c["type"] == "layers"]
    rank: dict[str, int] = {}
    independent: dict[str, bool] = {}
    for index, layer in enumerate(contract["layers"]):
        separator = "|" if "|" in layer else ":"
        for package in (name.strip() for name in layer.split(separator)):
            rank[package], independent[package] = index, separator == "|"
    return Layers(rank, independent)


def imports_of(path: Path, package: str) -> list[tuple[int, str]]:
    """(line, module) of every import in the file, those in functions and TYPE_CHECKING blocks included.

    Relative imports are resolved against `package`, the file's dotted package (tests.handoff).
    """
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                module = ".".join([*base, *filter(None, [node.module])])
            found.append((node.lineno, module))
    return found


def refusal(tests: Path, layers: Layers, folder: str | None, module: str) -> str | None:
    """Why the tests of `folder` (None: the shared modules) may not import `module`, or None if they may."""
    parts = module.split(".")
    if parts[0] == "tests" and len(parts) > 1:  # another test module: it counts as what its folder tests
        name = parts[1]
        if name in layers.rank:
            imported = name
        elif name in SHARED_FOLDERS or not (tests / name).is_dir():  # tests/fakes, tests/conftest.py, ...
            return None
        else:
            return f"tests/{name} cuts across the layers"
    elif parts[0] in layers.rank:
        imported = parts[0]
    else:  # the standard library or a third-party package
        return None
    if folder is None:
        if imported in SHARED_MAY_IMPORT:
            return None
        return f"the shared test modules use only {', '.join(sorted(SHARED_MAY_IMPORT))}"
    if folder not in layers.rank:
        return None
    return None if layers.allows(folder, imported) else f"{imported} is not below {folder} in the layers"


def violations(tests: Path = TESTS, layers: Layers | None = None) -> list[str]:
    """Every import in a package's test folder, or in the shared test modules, that the layers do not allow."""
    layers = layers or read_layers()
    problems = []
    for path in sorted(tests.rglob("*.py")):
        relative = path.relative_to(tests)
        top = relative.parts[0] if len(relative.parts) > 1 else None
        if top is None or top in SHARED_FOLDERS:
            folder = None
        elif top in CROSS_CUTTING:
            continue
        else:  # a package's folder; a folder named after nothing is refused by the test below
            folder = top
        package = ".".join([tests.name, *relative.parent.parts])
        for line, module in imports_of(path, package):
            reason = refusal(tests, layers, folder, module)
            if reason:
                problems.append(f"{tests.name}/{relative.as_posix()}:{line} imports {module}: {reason}")
    return problems


def test_the_tests_of_each_package_import_nothing_above_it():
    problems = violations()
    assert not problems, "Move each test to the folder of the highest package it uses (README, Layers):\n" + \
        "\n".join(problems)


def test_every_test_folder_is_named_after_a_package_or_known_to_cut_across_the_layers():
    """So that a folder the check would skip (a misspelt package, a new kind of test) is a decision, not a slip."""
    layers = read_layers()
    folders = {p.name for p in TESTS.iterdir() if p.is_dir() and any(p.glob("*.py"))}
    assert folders - set(layers.rank) - SHARED_FOLDERS - CROSS_CUTTING == set(), \
        "name the folder after the package it tests, or add it to CROSS_CUTTING or SHARED_FOLDERS"


def test_the_check_finds_an_upward_import_and_allows_a_downward_one(tmp_path):
    """A small tree checked against the real contract: what must fail fails, what must pass passes."""
    tests = tmp_path / "tests"
    files = {
        "conftest.py": "import database\nfrom settings import Settings\n",
        "support.py": "from handoff.service import CaseDesk\n",  # shared: too high
        "fakes/api.py": "import json\n",
        "e2e/test_all.py": "from desk.stack import Stack\n",  # across the layers: anything
        "handoff/conftest.py": "from knowledge_base.entry import Entry\nfrom tests.transcripts.conftest import w\n",
        "handoff/test_ok.py": "from . import conftest\nfrom tests.fakes.api import Fake\nimport outbox.store\n",
        "handoff/test_up.py": "def f():\n    from desk.cli import app\n",  # above, even inside a function
        "transcripts/test_sibling.py": "from knowledge_base.store import EntryStore\n",  # independent siblings
        "privacy/test_helpers.py": "from tests.handoff.conftest import small_directory\n",  # a higher folder's tests
        "connectors/test_stack.py": "from tests.e2e.conftest import stack\n",  # a cross-cutting folder
    }
    for name, text in files.items():
        (tests / name).parent.mkdir(parents=True, exist_ok=True)
        (tests / name).write_text(text)
    found = violations(tests, read_layers())
    assert [line.split(":")[0] for line in found] == [
        "tests/connectors/test_stack.py", "tests/handoff/test_up.py", "tests/privacy/test_helpers.py",
        "tests/support.py", "tests/transcripts/test_sibling.py"], found
    assert "tests/handoff/test_up.py:2 imports desk.cli: desk is not below handoff in the layers" in found
