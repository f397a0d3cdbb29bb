"""ECS services and Application Auto Scaling, locally: tasks per AZ, replacement, scaling."""
