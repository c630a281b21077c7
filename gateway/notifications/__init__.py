"""Outgoing notifications: the events a support tool hears about (events.py), the outbox they
are written to in the transaction of the change (outbox.py), and their delivery (H1's jobs)."""
