"""Operator tools: redrive dead letters, check the invariants of a running system."""
