"""Recognisers of personal data in citizens' messages: each finds the (start, end) spans of one kind."""
