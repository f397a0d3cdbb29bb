"""Load runs: locust travellers, load shapes, thresholds and the judge of a run."""
