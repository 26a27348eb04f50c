"""Every served operation's wire handler, by service: importing a handler module registers it.

A service is the one a request's SigV4 credential scope names (``…/ec2/aws4_request``).
A new AWS service adds its package beside ``ec2/``, ``iam/``, ``sts/`` and ``s3/`` and its
line here.
"""

from __future__ import annotations

from pocketcloud.api.call import Registry
from pocketcloud.api.ec2 import (  # noqa: F401 (importing registers the handlers)
    addresses,
    images,
    instance_types,
    instances,
    interfaces,
    key_pairs,
    launch_templates,
    profiles,
    routing,
    security_groups,
    tags,
    volumes,
    vpcs,
)
from pocketcloud.api.ec2.common import registry as ec2
from pocketcloud.api.iam import policies, roles, users  # noqa: F401 (importing registers the handlers)
from pocketcloud.api.iam.common import registry as iam
from pocketcloud.api.s3 import (  # noqa: F401 (importing registers the handlers)
    buckets,
    cors,
    multipart,
    objects,
    ownership,
    policy,
    public_access,
    tagging,
    versioning,
)
from pocketcloud.api.s3.common import registry as s3
from pocketcloud.api.sts import sessions  # noqa: F401 (importing registers the handlers)
from pocketcloud.api.sts.identity import registry as sts

#: the query-protocol services, answered by ``Api`` through codec.py
REGISTRIES: dict[str, Registry] = {"ec2": ec2, "iam": iam, "sts": sts}
#: every served service (S3, rest-xml, is answered by ``api.s3.edge``)
SERVED: dict[str, Registry] = {**REGISTRIES, "s3": s3}
