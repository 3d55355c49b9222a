"""The public archive's Atom feed (RFC 4287): one entry per released alert, newest first, linking its CAP."""

from __future__ import annotations

from datetime import UTC, datetime

from lxml import etree

from broadcasts.cap import cap_time
from broadcasts.models import Alert

ATOM = "http://www.w3.org/2005/Atom"


def atom_feed(alerts: list[Alert], *, title: str, base_url: str, now: datetime) -> bytes:
    def add(parent: etree._Element, name: str, text: str | None = None, **attributes: str) -> etree._Element:
        element = etree.SubElement(parent, f"{{{ATOM}}}{name}", attributes)
        element.text = text
        return element

    feed = etree.Element(f"{{{ATOM}}}feed", nsmap={None: ATOM})
    add(feed, "id", f"{base_url}/alerts")
    add(feed, "title", title)
    updated = max((a.released_at or a.drafted_at for a in alerts), default=now)
    add(feed, "updated", cap_time(updated.astimezone(UTC)))
    add(feed, "link", href=f"{base_url}/alerts.atom", rel="self")
    add(feed, "link", href=f"{base_url}/alerts", rel="alternate")
    for alert in alerts:
        entry = add(feed, "entry")
        add(entry, "id", f"{base_url}/alerts/{alert.id}")
        add(entry, "title", f"{alert.msg_type}: {alert.headline}")
        add(entry, "updated", cap_time(alert.released_at or alert.drafted_at))
        add(entry, "link", href=f"{base_url}/alerts/{alert.id}", rel="alternate")
        add(entry, "link", href=f"{base_url}/alerts/{alert.id}/cap.xml", rel="alternate", type="application/cap+xml")
        author = add(entry, "author")
        add(author, "name", title)
        add(entry, "summary", alert.description)
    return etree.tostring(feed, xml_declaration=True, encoding="UTF-8", pretty_print=True)
