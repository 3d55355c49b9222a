"""Open311 GeoReport v2's XML: the same objects as its JSON, with the element names clients such as FixMyStreet read
(services/service, service_requests/request, service_request_updates/request_update, errors/error, and
service_definition with attributes/attribute and values/value)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring

from fastapi.responses import Response
from pydantic import BaseModel

MEDIA_TYPE = "text/xml; charset=utf-8"
# a list's element name -> the name of each of its items
ITEMS = {"services": "service", "attributes": "attribute", "values": "value", "service_requests": "request",
         "errors": "error", "service_request_updates": "request_update"}


def to_xml(root: str, value: Any) -> bytes:
    """`value` (models, dicts, lists, scalars) as an XML document whose root element is `root`."""
    element = Element(root)
    _fill(element, root, _plain(value))
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + tostring(element, encoding="unicode").encode()


def xml_response(root: str, value: Any, status_code: int = 200) -> Response:
    return Response(to_xml(root, value), status_code=status_code, media_type=MEDIA_TYPE)


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump()
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return [_plain(v) for v in value]
    return value


def _fill(element: Element, name: str, value: Any) -> None:
    if isinstance(value, Mapping):
        for key, child in value.items():
            _fill(SubElement(element, key), key, _plain(child))
    elif isinstance(value, list):
        for item in value:
            _fill(SubElement(element, ITEMS.get(name, "item")), ITEMS.get(name, "item"), _plain(item))
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif isinstance(value, datetime):
        element.text = value.isoformat()
    elif value is not None:
        element.text = str(value)
