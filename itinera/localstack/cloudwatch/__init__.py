"""CloudWatch, locally: EMF extraction from the stack's logs, metrics into moto, a raw store."""

# The modules the stack runs as processes.
AGENT = "itinera.localstack.cloudwatch.agent"
MOTO_SERVER = "itinera.localstack.cloudwatch.moto_server"
