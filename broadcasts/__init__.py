"""Emergency broadcasts: alerts drafted from the city's templates, approved by a second person, delivered through
the one outbox to every chosen account and opted-in subscriber, exported as CAP 1.2 and archived publicly.

Between handoff (staff roles, the audit log) and connectors (which take /subscribe and deliver the rows). An alert's
rows in the outbox carry keys `bulk:bc<alert id>:<channel>:<address>`: one per recipient and channel, so a restart
never queues anyone twice, and the senders' states are the delivery log; bulk rows go after the answers to citizens.
"""

from broadcasts.models import Alert, AlertState, MsgType, Subscription

__all__ = ["Alert", "AlertState", "MsgType", "Subscription"]
