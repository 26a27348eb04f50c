"""Virtual-hosted addressing: a bucket named in the Host header (pure).

pocketcloud's S3 domain is ``s3.localhost``: with the endpoint ``http://s3.localhost:4747``
and virtual addressing, clients ask ``http://<bucket>.s3.localhost:4747/<key>`` (RFC 6761
keeps ``*.localhost`` on this machine; browsers resolve it themselves, other programs need
a line in /etc/hosts). AWS's own names (``<bucket>.s3.amazonaws.com``,
``<bucket>.s3.<region>.amazonaws.com``, ``<bucket>.s3-<region>.amazonaws.com``) are read the
same way, for hosts pointed here. Any other Host is path-style.
"""

from __future__ import annotations

import re

DOMAIN = "s3.localhost"
_VIRTUAL = re.compile(
    r"(?P<bucket>[a-z0-9][a-z0-9.-]*[a-z0-9])\.s3(?:[.-][a-z0-9-]+)?\.(?:localhost|amazonaws\.com)"
)


def bucket_of(host: str) -> str | None:
    """The bucket a Host header names (port and case aside), or None for path-style."""
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    found = _VIRTUAL.fullmatch(name.lower())
    return None if found is None else found["bucket"]


def path_style(host: str, raw_path: str) -> str:
    """The request's path as path-style addressing writes it (``/<bucket>/<key>``)."""
    bucket = bucket_of(host)
    if bucket is None:
        return raw_path
    return f"/{bucket}" + ("" if raw_path == "/" else raw_path)
