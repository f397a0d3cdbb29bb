"""The local stack: the whole system on one machine."""
