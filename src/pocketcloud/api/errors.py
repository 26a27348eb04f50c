"""Rendering domain errors in each service's AWS wire shape (the only place that does)."""

from __future__ import annotations

from pocketcloud.api.codec import codec_for
from pocketcloud.errors import CloudError


def render_error(service: str, error: CloudError, request_id: str) -> bytes:
    """The error body botocore expects from ``service``.

    EC2 answers ``<Response><Errors>``; IAM and STS answer ``<ErrorResponse>``.
    """
    return codec_for(service).serialize_error(
        error.code, error.message, request_id, sender=error.sender
    )
