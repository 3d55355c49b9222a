"""What the tests of the layers above share of privacy: the redactor the desk builds at start-up."""

from __future__ import annotations

from privacy import Redactor

# The redactor with the default settings' phone regions, built once, as the desk builds its own at start-up.
REDACTOR = Redactor()
