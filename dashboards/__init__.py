"""CloudWatch alarms and dashboards as code: definitions, template rendering, offline drawing."""
