"""Hand-off to departments: directory, routing, deadlines, cases, decisions and the staff accounts."""
