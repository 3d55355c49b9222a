"""OASIS Common Alerting Protocol 1.2: every alert as a CAP document (elements in the schema's order)."""

from __future__ import annotations

from datetime import UTC, datetime

from lxml import etree

from broadcasts.models import Alert, MsgType
from broadcasts.templates import CITY_WIDE

NAMESPACE = "urn:oasis:names:tc:emergency:cap:1.2"
LANGUAGE = "en-US"


def cap_time(moment: datetime) -> str:
    """CAP's dateTime: seconds and an explicit offset ("+00:00", never "Z")."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def cap_document(alert: Alert, original: Alert | None, *, sender: str, sender_name: str, web: str) -> bytes:
    def add(parent: etree._Element, name: str, text: str) -> etree._Element:
        element = etree.SubElement(parent, f"{{{NAMESPACE}}}{name}")
        element.text = text
        return element

    root = etree.Element(f"{{{NAMESPACE}}}alert", nsmap={None: NAMESPACE})
    add(root, "identifier", alert.identifier)
    add(root, "sender", sender)
    add(root, "sent", cap_time(alert.released_at or alert.approved_at or alert.drafted_at))
    add(root, "status", "Exercise" if alert.exercise else "Actual")
    add(root, "msgType", str(alert.msg_type))
    add(root, "scope", "Public")
    if alert.exercise:
        add(root, "note", "Exercise: no action is needed.")
    if alert.msg_type != MsgType.ALERT and original is not None:
        sent = original.released_at or original.approved_at or original.drafted_at
        add(root, "references", f"{sender},{original.identifier},{cap_time(sent)}")
    info = etree.SubElement(root, f"{{{NAMESPACE}}}info")
    add(info, "language", LANGUAGE)
    add(info, "category", alert.category)
    add(info, "event", alert.event)
    add(info, "responseType", "AllClear" if alert.template == "all-clear" or alert.msg_type == MsgType.CANCEL
        else "Monitor")
    add(info, "urgency", alert.urgency)
    add(info, "severity", alert.severity)
    add(info, "certainty", alert.certainty)
    add(info, "expires", cap_time(alert.expires_at))
    add(info, "senderName", sender_name)
    add(info, "headline", alert.headline)
    add(info, "description", alert.description)
    if alert.instruction:
        add(info, "instruction", alert.instruction)
    add(info, "web", web)
    area = etree.SubElement(info, f"{{{NAMESPACE}}}area")
    add(area, "areaDesc", alert.area or CITY_WIDE)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
