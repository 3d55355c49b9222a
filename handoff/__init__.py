"""Hand-off to departments: directory, routing, deadlines, cases, the outbox and the staff inbox."""
