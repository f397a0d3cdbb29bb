"""Gateway: the public API edge (auth, routing, request ids)."""
