"""The game-day runner as an ECS task (`python -m chaos.gameday.task [EXPERIMENT]`): what the
weekly schedule starts (infra/sam/loadgen.yaml). It runs `itinera gameday run` with the
task's own AWS credentials, writes the report, uploads it to the results bucket under
`gamedays/`, and exits 0 only when the game day passed, so a failing one stops the task
non-zero, which the runner-failed rule tells the operations topic.

Its settings come from the task definition's environment: ITINERA_STAGE, ITINERA_HOST (the
stage's public URL), ITINERA_LOAD_BUCKET (travellers' tokens at `tokens/gameday.txt`, put
there by an operator on AWS and by the local stack), ITINERA_GAMEDAY_EXPERIMENT (unless given
as the argument).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

TOKENS_KEY = "tokens/gameday.txt"


def main(argv: list[str]) -> int:
    """Run one game day from the task's environment; return its exit code."""
    import boto3

    from chaos.gameday import report
    from chaos.gameday.run import GamedayOptions, run_gameday, summary
    from loadtests.targets import AwsTarget

    experiment = argv[0] if argv else os.environ["ITINERA_GAMEDAY_EXPERIMENT"]
    bucket = os.environ["ITINERA_LOAD_BUCKET"]
    work = Path(tempfile.mkdtemp(prefix="itinera-gameday-"))
    try:
        s3 = boto3.client("s3")
        s3.download_file(bucket, TOKENS_KEY, str(work / "tokens.txt"))
        target = AwsTarget(tokens_file=work / "tokens.txt")
        result = run_gameday(GamedayOptions(
            experiment=experiment, report_root=work / "reports",
            stage=os.environ["ITINERA_STAGE"], host=os.environ["ITINERA_HOST"]), target)
        report.write(result, target.client("cloudwatch"))
        prefix = f"gamedays/{result.folder.name}"
        for path in sorted(result.folder.rglob("*")):
            if path.is_file():
                s3.upload_file(str(path), bucket,
                               f"{prefix}/{path.relative_to(result.folder)}")
        doc = summary(result)
        print(json.dumps({"message": "game day ended", "verdict": doc["verdict"],
                          "state": doc["state"], "report": f"s3://{bucket}/{prefix}/"}),
              flush=True)
        return 0 if result.passed else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
