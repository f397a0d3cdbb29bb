"""EventBridge Scheduler, locally: the schedules moto stores, fired on the scaled clock."""
