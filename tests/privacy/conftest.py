"""What the tests of the layers above share of privacy: the redactor the desk builds at start-up."""

from __future__ import annotations

from privacy import build_redactor
from settings import Settings

# The redactor of the default settings (phone regions, name model, the demo city's published contacts), built once,
# as the desk builds its own at start-up.
REDACTOR = build_redactor(Settings())
