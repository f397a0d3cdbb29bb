"""Inventory service: flight catalog, search, and seat holds over MySQL with a Redis cache."""
