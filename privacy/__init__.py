"""Personal data: finding it in a text and replacing it for the public record (phones, e-mails, IDs, names...).

The redactor is built once from settings (`build_redactor`) and passed to whatever publishes text.
"""

from privacy.redactor import KINDS, PLACEHOLDERS, Finding, Redaction, Redactor, build_redactor

# What a citizen's text reads after the retention period removed it, in every table that kept it.
REMOVED_TEXT = "[removed after the retention period]"

__all__ = ["KINDS", "PLACEHOLDERS", "REMOVED_TEXT", "Finding", "Redaction", "Redactor", "build_redactor"]
