"""Itinera's shared kit: settings, logging, errors, HTTP, AWS, auth, health."""
