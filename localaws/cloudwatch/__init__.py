"""CloudWatch, locally: EMF extraction from the stack's logs, metrics into moto, a raw store."""

# The module the stack runs as a process.
AGENT = "localaws.cloudwatch.agent"
