"""The IAM actions a game day's runner calls, on AWS as locally.

tests/e2e/test_gameday.py records every AWS call a game day makes, checks each against the
pinned botocore's service model, and checks that each call's IAM action is listed here (and
each listed one called); docs/gameday.md lists them for the role an SRE runs the game day
with.
"""

from __future__ import annotations

RUNNER_ACTIONS = frozenset({
    "cloudformation:DescribeStacks",                  # the loadgen stack's outputs
    "cloudwatch:DescribeAlarms",                      # the steady state, the stop conditions
    "cloudwatch:DescribeAlarmHistory",                # the report's alarm timeline
    "cloudwatch:ListMetrics", "cloudwatch:GetMetricData",  # the report's figure, scaling
    "application-autoscaling:DescribeScalingActivities",  # the report's scaling activities
    "ecs:RunTask", "ecs:DescribeTasks", "ecs:StopTask",    # the load's master and workers
    "fis:ListExperimentTemplates", "fis:GetExperimentTemplate",
    "fis:CreateExperimentTemplate", "fis:DeleteExperimentTemplate", "fis:TagResource",
    "fis:StartExperiment", "fis:GetExperiment", "fis:StopExperiment",
    "s3:PutObject", "s3:GetObject", "s3:ListBucket",  # the run's folder in the results bucket
})
# Not API calls, but needed with them: RunTask passes the tasks' roles, and
# CreateExperimentTemplate the experiment's role.
PASSED_ROLES = "iam:PassRole"
# Where an operation's IAM action is not its own name.
_ACTION_OF = {"s3:ListObjectsV2": "s3:ListBucket", "s3:HeadObject": "s3:GetObject"}


def iam_action(service: str, operation: str) -> str:
    """Return the IAM action that authorizes *operation* of boto3 client *service*."""
    action = f"{service}:{operation}"
    return _ACTION_OF.get(action, action)


def tagging(service: str, operation: str, params: dict[str, object]) -> list[str]:
    """Return the further actions a call needs for the tags it sets (FIS authorizes tags on
    create and start as TagResource)."""
    return ["fis:TagResource"] if service == "fis" and params.get("tags") else []
