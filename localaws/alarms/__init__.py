"""CloudWatch alarms in the local stack: evaluated here, since moto only stores them."""
