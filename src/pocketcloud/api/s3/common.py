"""What the S3 wire handlers share: the registry, the owner's wire form, timestamps."""

from __future__ import annotations

from datetime import UTC, datetime

from pocketcloud.api.call import Call, Registry, Result
from pocketcloud.services.s3.common import owner

registry = Registry("s3")


def owner_view(call: Call) -> Result:
    found = owner(call.cloud)
    return {"ID": found.id, "DisplayName": found.display_name}


def moment(stored: str) -> datetime:
    """A stored ISO 8601 time as the datetime the codec writes in S3's forms."""
    return datetime.fromisoformat(stored.replace("Z", "+00:00")).astimezone(UTC)
