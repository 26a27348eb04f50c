"""Signing and sending hand-made requests, for what boto3 will not send."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from unittest import mock
from urllib.parse import urlencode

from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

FORM = "application/x-www-form-urlencoded; charset=utf-8"


@dataclass(frozen=True)
class Answer:
    """An HTTP answer and the AWS error code in it, if any."""

    status: int
    body: str

    @property
    def code(self) -> str | None:
        found = re.search(r"<Code>([^<]*)</Code>", self.body)
        return found.group(1) if found else None


def send(url: str, body: bytes | None, headers: dict[str, str], method: str = "POST") -> Answer:
    """Send one request to the local server (opens a socket to 127.0.0.1)."""
    request = urllib.request.Request(url, data=body, headers=headers, method=method)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return Answer(response.status, response.read().decode())
    except urllib.error.HTTPError as error:
        return Answer(error.code, error.read().decode())


def signed(
    endpoint: str,
    service: str,
    params: dict[str, str],
    key: str,
    secret: str,
    *,
    at: datetime | None = None,
    region: str = "us-east-1",
) -> Answer:
    """POST ``params`` signed by botocore's own SigV4 signer (clock optionally moved)."""
    body = urlencode(params).encode()
    request = AWSRequest(
        method="POST", url=endpoint + "/", data=body, headers={"Content-Type": FORM}
    )
    signer = SigV4Auth(Credentials(key, secret), service, region)
    if at is None:
        signer.add_auth(request)
    else:
        with mock.patch("botocore.auth.get_current_datetime", return_value=at):
            signer.add_auth(request)
    headers = dict(request.headers.items())
    return send(endpoint + "/", body, headers)


def presigned_url(
    endpoint: str,
    service: str,
    params: dict[str, str],
    key: str,
    secret: str,
    *,
    expires: int = 300,
    at: datetime | None = None,
) -> str:
    """A presigned GET URL made by botocore's SigV4QueryAuth."""
    url = endpoint + "/?" + urlencode(params)
    request = AWSRequest(method="GET", url=url)
    signer = SigV4QueryAuth(Credentials(key, secret), service, "us-east-1", expires=expires)
    if at is None:
        signer.add_auth(request)
    else:
        with mock.patch("botocore.auth.get_current_datetime", return_value=at):
            signer.add_auth(request)
    return str(request.url)
