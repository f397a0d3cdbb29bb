"""Notifier: turns booking events into e-mails and itineraries."""
