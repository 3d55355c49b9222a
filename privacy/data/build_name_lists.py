"""Write first_names.txt and last_names.txt: the given names and surnames ranked in the top 300 of at least one
country by names-dataset 3.3.1.

names-dataset (Philippe Rémy, Apache License 2.0, https://pypi.org/project/names-dataset/) holds 727,556 first
names from 106 countries; loading it takes about 1 GB of memory and 4 s, too much for every process that redacts,
so the redactor reads these extracts instead (about 18,000 given names and 21,000 surnames, 300 kB). Regenerate:

    .venv/bin/pip download --no-deps -d /tmp/nd names-dataset==3.3.1   # its sha256: WHEEL_SHA256
    .venv/bin/python privacy/data/build_first_names.py /tmp/nd/names_dataset-3.3.1-py3-none-any.whl
"""

from __future__ import annotations

import gzip
import hashlib
import pickle
import sys
import zipfile
from pathlib import Path

WHEEL_SHA256 = "9fb1b60a82de8bea004e7755b6133df0b4a029f93b9ee18bfa37f356f2b8c75e"
TOP = 300
HERE = Path(__file__).resolve().parent


def main(wheel: Path) -> None:
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != WHEEL_SHA256:
        sys.exit(f"{wheel}: SHA-256 {digest}, expected {WHEEL_SHA256}")
    for kind in ("first_names", "last_names"):
        # the wheel's digest is checked above: the pickle is the one published
        with zipfile.ZipFile(wheel) as archive, archive.open(f"names_dataset/v3/{kind}.pkl.gz") as packed, \
                gzip.open(packed) as unpacked:
            names = pickle.load(unpacked)
        keep = sorted(name for name, info in names.items()
                      if info.get("rank") and " " not in name and name.isalpha()
                      and min(r for r in info["rank"].values() if r is not None) <= TOP)
        del names
        out = HERE / f"{kind}.txt"
        out.write_text(f"# names-dataset {WHEEL_SHA256[:12]}: {kind.replace('_', ' ')} in a country's top {TOP}\n"
                       + "\n".join(keep) + "\n", encoding="utf-8")
        print(f"{len(keep)} names written to {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
