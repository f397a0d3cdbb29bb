"""Subcommands of `itinera`, one module per area; each exposes `register(subparsers)`."""
