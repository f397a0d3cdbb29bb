"""Abuse limits: rate policies (GCRA in Redis) and caps on what a traveller holds at once."""
