"""A hypothesis fuzz of the live API: never a 5xx, never a dead server."""

from __future__ import annotations

import http.client
from urllib.parse import quote, urlencode

import botocore.session
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pocketcloud.api.app import REGISTRIES
from tests.api.rawclient import FORM
from tests.plugin.clouds import Server

pytestmark = pytest.mark.live

SERVICES = {"ec2": "2016-11-15", "iam": "2010-05-08", "sts": "2011-06-15"}
EXAMPLES = 10_500


def _vocabulary() -> dict[str, list[tuple[str, list[str]]]]:
    """(operation, wire names of its top-level parameters) per service, from botocore."""
    session = botocore.session.get_session()
    out: dict[str, list[tuple[str, list[str]]]] = {}
    for service in SERVICES:
        model = session.get_service_model(service)
        ops = []
        for name in model.operation_names:
            shape = model.operation_model(name).input_shape
            members = list(shape.members) if shape is not None else []
            ops.append((name, members))
        out[service] = ops
    return out


VOCABULARY = _vocabulary()
#: the operations the server implements: half of the examples aim at them
SERVED = {
    service: [(op, members) for op, members in ops if op in REGISTRIES[service].handlers]
    for service, ops in VOCABULARY.items()
}
SUFFIXES = [
    "",
    ".1",
    ".2",
    ".1.Name",
    ".1.Value.1",
    ".member.1",
    ".1.Key",
    ".0",
    ".-1",
    ".99999999999",
    "..",
    ".1.IpRanges.1.CidrIp",
    ".1.FromPort",
    ".entry.1.key",
]
VALUES = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "",
            "true",
            "false",
            "-1",
            "0",
            "65536",
            "9" * 30,
            "tcp",
            "sg-",
            "*",
            "sg-0123456789abcdef0",
            "0.0.0.0/0",
            "1e9",
            "{",
            '{"Version":"2012-10-17"}',
            "%",
            "\x00",
            "é",
            "ssh-rsa AAAA",
            "default",
        ]
    ),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
)


@st.composite
def requests(draw: st.DrawFn) -> tuple[str, list[tuple[str, str]], bool]:
    """A service, form parameters and whether to sign: mostly well-aimed (half of the
    time at an operation the server implements), sometimes wild."""
    service = draw(st.sampled_from(sorted(SERVICES)))
    pool = SERVED[service] if draw(st.booleans()) else VOCABULARY[service]
    operation, members = draw(st.sampled_from(pool))
    if draw(st.integers(0, 9)) == 0:
        operation = draw(st.text(max_size=20))
    params = [("Action", operation), ("Version", SERVICES[service])]
    for _ in range(draw(st.integers(0, 6))):
        base = draw(st.sampled_from(members)) if members else draw(st.text(max_size=10))
        if base == "UserName" and service == "iam":
            continue  # keep the admin user out of harm's way
        params.append((base + draw(st.sampled_from(SUFFIXES)), draw(VALUES)))
    return service, params, draw(st.integers(0, 19)) != 0


class Sender:
    """One keep-alive connection, reopened after the server closes it."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)

    def post(self, service: str, params: list[tuple[str, str]], sign: bool) -> int:
        body = urlencode(params, quote_via=quote).encode("utf-8", "surrogatepass")
        headers = {"Content-Type": FORM}
        if sign:
            request = AWSRequest(
                method="POST", url=self.server.endpoint + "/", data=body, headers=headers
            )
            creds = Credentials(self.server.access_key_id, self.server.secret)
            SigV4Auth(creds, service, "us-east-1").add_auth(request)
            headers = dict(request.headers.items())
        try:
            self.conn.request("POST", "/", body=body, headers=headers)
            response = self.conn.getresponse()
            response.read()
        except (http.client.HTTPException, ConnectionError):
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
            raise
        return response.status


def test_fuzz_never_5xx(cloud: Server) -> None:
    """Over 10,000 generated requests the server never answers 5xx and never dies."""
    sender = Sender(cloud)
    statuses: list[int] = []

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(requests())
    def probe(request: tuple[str, list[tuple[str, str]], bool]) -> None:
        service, params, sign = request
        status = sender.post(service, params, sign)
        statuses.append(status)
        assert status < 500, (service, params)

    try:
        probe()
    finally:
        sender.conn.close()
    assert len(statuses) >= 10_000
    assert cloud.process is not None
    assert cloud.process.poll() is None
    assert 200 in statuses, "the fuzz never got past authentication and parsing"
