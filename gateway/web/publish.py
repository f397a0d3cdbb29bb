"""Upload a build to the web bucket and invalidate its HTML in CloudFront (deploy, local stack)."""

from __future__ import annotations

import time
from typing import Any

from gateway.web.build import Asset


def upload(s3: Any, bucket: str, assets: list[Asset]) -> None:
    """Put every object with its type and cache header; the HTML last, once its assets exist.

    Nothing is deleted: a browser holding the previous HTML still finds the assets it names.
    """
    for asset in sorted(assets, key=lambda a: a.key == "index.html"):
        s3.put_object(Bucket=bucket, Key=asset.key, Body=asset.body,
                      ContentType=asset.content_type, CacheControl=asset.cache_control)


def invalidate(cloudfront: Any, distribution_id: str) -> str:
    """Drop the HTML and the sign-in settings from CloudFront's caches; return the id."""
    paths = ["/", "/index.html", "/config.json"]
    answer = cloudfront.create_invalidation(DistributionId=distribution_id, InvalidationBatch={
        "Paths": {"Quantity": len(paths), "Items": paths},
        "CallerReference": f"itinera-web-{time.time_ns()}"})
    return str(answer["Invalidation"]["Id"])
