"""The `itinera` command: thin commands over the tools (localaws, loadtests, chaos,
dashboards, operations)."""
