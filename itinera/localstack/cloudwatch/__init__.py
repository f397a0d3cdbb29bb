"""CloudWatch, locally: EMF extraction from the stack's logs, metrics into moto, a raw store."""
