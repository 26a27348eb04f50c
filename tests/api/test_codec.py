"""Unit tests of pocketcloud.api.codec: request errors, wire details and XML rendering."""

from __future__ import annotations

import base64
import contextlib
import time
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pocketcloud.api.app import Api
from pocketcloud.api.codec import Codec, codec_for
from pocketcloud.api.registry import REGISTRIES
from pocketcloud.errors import (
    ClientError,
    CloudError,
    InvalidAction,
    InvalidParameterValue,
    MissingParameter,
)
from pocketcloud.services.context import Cloud

EC2 = codec_for("ec2")
IAM = codec_for("iam")
STS = codec_for("sts")


def ec2(action: str, **params: str) -> dict[str, Any]:
    """Parse an ec2 request, returning just the input dict."""
    return EC2.parse({"Action": action, "Version": "2016-11-15", **params})[1]


def iam(action: str, **params: str) -> dict[str, Any]:
    """Parse an iam request, returning just the input dict."""
    return IAM.parse({"Action": action, "Version": "2010-05-08", **params})[1]


class TestCodecConstruction:
    """Codec and codec_for describe the service they were made for."""

    def test_attributes(self) -> None:
        """Protocol, API version and XML namespace come from the botocore model."""
        assert (EC2.service, EC2.protocol, EC2.api_version) == ("ec2", "ec2", "2016-11-15")
        assert EC2.xml_namespace == "http://ec2.amazonaws.com/doc/2016-11-15/"
        assert (IAM.protocol, IAM.api_version) == ("query", "2010-05-08")
        assert IAM.xml_namespace == "https://iam.amazonaws.com/doc/2010-05-08/"
        assert (STS.protocol, STS.api_version) == ("query", "2011-06-15")
        assert STS.xml_namespace == "https://sts.amazonaws.com/doc/2011-06-15/"

    def test_codec_for_is_cached(self) -> None:
        """codec_for hands out one shared Codec per service."""
        assert codec_for("iam") is codec_for("iam")

    def test_api_warm_makes_every_codec(self) -> None:
        """Api.warm makes each served service's codec at start-up, so no request pays for
        loading a botocore model."""
        codec_for.cache_clear()
        Api(cast(Cloud, None)).warm()
        assert codec_for.cache_info().currsize == len(REGISTRIES) == 3

    def test_unknown_service(self) -> None:
        """A service without a supported protocol is a programming error, not a CloudError."""
        with pytest.raises(ValueError, match="s3"):
            Codec("s3")


class TestParseAction:
    """The Action parameter picks the operation; Version is accepted whatever it says."""

    def test_unknown_action(self) -> None:
        """An action the model lacks raises InvalidAction naming it."""
        with pytest.raises(InvalidAction) as caught:
            EC2.parse({"Action": "Foo"})
        assert caught.value.message == "The action Foo is not valid for this web service."
        assert (caught.value.code, caught.value.status) == ("InvalidAction", 400)

    @pytest.mark.parametrize("params", [{}, {"Action": ""}, {"Version": "2016-11-15"}])
    def test_missing_action(self, params: dict[str, str]) -> None:
        """A request without an Action raises InvalidAction."""
        with pytest.raises(InvalidAction):
            EC2.parse(params)

    def test_other_version_accepted(self) -> None:
        """A Version other than the model's is accepted."""
        assert EC2.parse({"Action": "DescribeVpcs", "Version": "2014-01-01"}) == (
            "DescribeVpcs",
            {},
        )

    def test_input_less_operation(self) -> None:
        """An operation with an empty input shape parses to an empty dict."""
        assert STS.parse({"Action": "GetCallerIdentity"}) == ("GetCallerIdentity", {})


class TestParseValues:
    """Wire values become typed Python values keyed by member name."""

    def test_ec2_wire_names(self) -> None:
        """ec2 reads locationName capitalised (InstanceId.N, Filter.N.Value.N) into member names."""
        parsed = ec2(
            "DescribeInstances",
            **{"InstanceId.1": "i-1", "Filter.1.Name": "n", "Filter.1.Value.1": "v"},
            MaxResults="7",
            DryRun="false",
        )
        assert parsed == {
            "InstanceIds": ["i-1"],
            "Filters": [{"Name": "n", "Values": ["v"]}],
            "MaxResults": 7,
            "DryRun": False,
        }

    def test_ec2_query_name(self) -> None:
        """ec2 prefers queryName: Ipv6Addresses, not the locationName ipv6AddressesSet."""
        parsed = ec2(
            "RunInstances",
            MinCount="1",
            MaxCount="1",
            **{"NetworkInterface.1.Ipv6Addresses.1.Ipv6Address": "::1"},
        )
        assert parsed["NetworkInterfaces"] == [{"Ipv6Addresses": [{"Ipv6Address": "::1"}]}]

    def test_list_order_is_numeric(self) -> None:
        """List entries are ordered by numeric index, gaps closed."""
        params = {"InstanceId.10": "c", "InstanceId.2": "b", "InstanceId.1": "a"}
        assert ec2("DescribeInstances", **params) == {"InstanceIds": ["a", "b", "c"]}

    def test_huge_index(self) -> None:
        """A huge index yields a one-element list, allocating nothing by index value."""
        assert ec2("DescribeInstances", **{"InstanceId.999999999": "i-1"}) == {
            "InstanceIds": ["i-1"]
        }

    def test_query_members(self) -> None:
        """query lists use Name.member.N, structures inside them Name.member.N.Sub."""
        parsed = iam(
            "CreateUser",
            UserName="bob",
            **{"Tags.member.1.Key": "k", "Tags.member.1.Value": "v"},
        )
        assert parsed == {"UserName": "bob", "Tags": [{"Key": "k", "Value": "v"}]}

    def test_query_empty_list(self) -> None:
        """A bare empty ``Name=`` is the query protocol's empty list."""
        assert iam("CreateUser", UserName="bob", Tags="") == {"UserName": "bob", "Tags": []}

    def test_blob(self) -> None:
        """Blobs arrive base64-encoded and are handed over as bytes."""
        material = base64.b64encode(b"ssh-ed25519 AAAA").decode()
        parsed = ec2("ImportKeyPair", KeyName="k", PublicKeyMaterial=material)
        assert parsed["PublicKeyMaterial"] == b"ssh-ed25519 AAAA"

    @pytest.mark.parametrize(
        "raw",
        ["2026-11-25T10:00:00Z", "2026-11-25T10:00:00.000Z", "2026-11-25T11:00:00+01:00"],
    )
    def test_timestamp_iso(self, raw: str) -> None:
        """ISO 8601 timestamps become aware UTC datetimes."""
        parsed = ec2("DescribeSpotPriceHistory", StartTime=raw)
        assert parsed["StartTime"] == datetime(2026, 11, 25, 10, tzinfo=UTC)
        assert parsed["StartTime"].utcoffset() == timedelta(0)

    def test_timestamp_epoch(self) -> None:
        """Epoch seconds become aware UTC datetimes."""
        parsed = ec2("DescribeSpotPriceHistory", StartTime="1795600800")
        assert parsed["StartTime"] == datetime.fromtimestamp(1795600800, UTC)

    def test_query_ignores_unknown(self) -> None:
        """The query protocol ignores parameters the model does not know."""
        params = {"Bogus": "1", "UserName.x": "y", "Tags.member.x": "z", "Tags.other.1": "w"}
        assert iam("CreateUser", UserName="bob", **params) == {"UserName": "bob"}


class TestParseErrors:
    """Bad requests raise pocketcloud errors naming the parameter by its wire name."""

    def test_missing_parameter_wire_name(self) -> None:
        """A missing required member is reported by wire name (ResourceId, not Resources)."""
        with pytest.raises(MissingParameter) as caught:
            ec2("DeleteTags")
        assert caught.value.message == "The request must contain the parameter ResourceId"

    def test_missing_parameter_query(self) -> None:
        """The query protocol reports missing members the same way."""
        with pytest.raises(MissingParameter, match=r"parameter UserName$"):
            iam("CreateUser")

    @pytest.mark.parametrize("raw", ["abc", "", "1.5", "0x10", "99999999999", " 7"])
    def test_bad_integer(self, raw: str) -> None:
        """A non-integer (or out-of-int32) value raises InvalidParameterValue naming it."""
        with pytest.raises(InvalidParameterValue) as caught:
            ec2("DescribeInstances", MaxResults=raw)
        assert caught.value.message == f"Invalid value '{raw}' for MaxResults"

    @pytest.mark.parametrize("raw", ["yes", "1", ""])
    def test_bad_boolean(self, raw: str) -> None:
        """Only true/false are booleans."""
        with pytest.raises(InvalidParameterValue, match="for DryRun"):
            ec2("DescribeInstances", DryRun=raw)

    @pytest.mark.parametrize("raw", ["!!!", "abc", "é"])
    def test_bad_base64(self, raw: str) -> None:
        """A blob that is not valid base64 raises InvalidParameterValue."""
        with pytest.raises(InvalidParameterValue, match="for PublicKeyMaterial"):
            ec2("ImportKeyPair", KeyName="k", PublicKeyMaterial=raw)

    @pytest.mark.parametrize("raw", ["yesterday", "2026-13-01T00:00:00Z", "9" * 12])
    def test_bad_timestamp(self, raw: str) -> None:
        """A value neither ISO 8601 nor sane epoch seconds raises InvalidParameterValue."""
        with pytest.raises(InvalidParameterValue, match="for StartTime"):
            ec2("DescribeSpotPriceHistory", StartTime=raw)

    def test_ec2_enum(self) -> None:
        """An ec2 value outside the model's enum raises InvalidParameterValue."""
        with pytest.raises(InvalidParameterValue, match="Invalid value 'dsa' for KeyType"):
            ec2("CreateKeyPair", KeyName="k", KeyType="dsa")

    def test_ec2_integer_range(self) -> None:
        """An ec2 integer outside the model's min/max raises InvalidParameterValue."""
        with pytest.raises(InvalidParameterValue, match="'1' for MaxResults"):
            ec2("DescribeSecurityGroups", MaxResults="1")

    def test_query_enum(self) -> None:
        """A query-protocol enum violation is a ValidationError in AWS's wording."""
        with pytest.raises(ClientError) as caught:
            iam("UpdateAccessKey", AccessKeyId="AKIA0000000000000000", Status="On")
        assert caught.value.code == "ValidationError"
        assert caught.value.message == (
            "1 validation error detected: Value 'On' at 'status' failed to satisfy "
            "constraint: Member must satisfy enum value set: [Active, Inactive, Expired]"
        )

    @pytest.mark.parametrize(
        ("raw", "constraint"),
        [
            ("", "Member must have length greater than or equal to 1"),
            ("x" * 65, "Member must have length less than or equal to 64"),
        ],
    )
    def test_query_length(self, raw: str, constraint: str) -> None:
        """A query-protocol string outside min/max length is a ValidationError."""
        with pytest.raises(ClientError) as caught:
            iam("CreateUser", UserName=raw)
        assert caught.value.code == "ValidationError"
        assert caught.value.message == (
            f"1 validation error detected: Value '{raw}' at 'userName' failed to satisfy "
            f"constraint: {constraint}"
        )

    def test_query_integer_range(self) -> None:
        """A query-protocol integer below the model's min is a ValidationError."""
        with pytest.raises(ClientError, match="greater than or equal to 1") as caught:
            iam("ListUsers", MaxItems="0")
        assert caught.value.code == "ValidationError"

    def test_query_bad_integer(self) -> None:
        """A query-protocol non-integer is InvalidParameterValue, like ec2."""
        with pytest.raises(InvalidParameterValue, match="Invalid value 'many' for MaxItems"):
            iam("ListUsers", MaxItems="many")

    @pytest.mark.parametrize(
        "name",
        ["Bogus", "Filter.1.Bogus", "MaxResults.1", "DryRun.x.y", "Filter.1.Value.1.Deep"],
    )
    def test_ec2_unknown_parameter(self, name: str) -> None:
        """ec2 rejects a parameter the model lacks with UnknownParameter naming it."""
        with pytest.raises(ClientError) as caught:
            ec2("DescribeInstances", **{name: "1"})
        assert caught.value.code == "UnknownParameter"
        assert caught.value.message == f"The parameter {name} is not recognized"

    @pytest.mark.parametrize(
        "name",
        [
            "InstanceId..1",
            "InstanceId.x",
            "InstanceId.0",
            "InstanceId.01",
            "InstanceId.-1",
            "InstanceId.1234567890",
            "InstanceId.١",
            "InstanceId.",
            ".InstanceId",
            "",
            ".",
            "..",
            "Filter.1.Value.1." + ".".join(["x"] * 5000),
        ],
    )
    def test_ec2_malformed_names(self, name: str) -> None:
        """Malformed and absurdly dotted names are UnknownParameter, never a crash."""
        with pytest.raises(ClientError) as caught:
            ec2("DescribeInstances", **{name: "i-1"})
        assert caught.value.code == "UnknownParameter"

    def test_ec2_bare_list_value(self) -> None:
        """An ec2 list given a bare non-empty value is UnknownParameter."""
        with pytest.raises(ClientError, match="InstanceId is not recognized"):
            ec2("DescribeInstances", InstanceId="i-1")

    def test_list_too_long(self) -> None:
        """More than 1000 entries in one list raises InvalidParameterValue."""
        params = {f"InstanceId.{i}": "i-1" for i in range(1, 1002)}
        with pytest.raises(InvalidParameterValue, match="InstanceId"):
            ec2("DescribeInstances", **params)

    def test_long_list_is_fast(self) -> None:
        """A 1000-entry list with sparse huge indices parses quickly."""
        params = {f"InstanceId.{i * 999_000 + 1}": f"i-{i}" for i in range(1000)}
        start = time.perf_counter()
        assert len(ec2("DescribeInstances", **params)["InstanceIds"]) == 1000
        assert time.perf_counter() - start < 0.5


_names = st.lists(
    st.sampled_from(["Filter", "Value", "Name", "InstanceId", "member", "1", "2", "0", "x", ""]),
    min_size=1,
    max_size=6,
).map(".".join)
_params = st.dictionaries(st.one_of(_names, st.text(max_size=20)), st.text(max_size=8))


class TestParseFuzz:
    """Any input at all yields a result or a pocketcloud error, nothing else."""

    @settings(max_examples=400, deadline=None)
    @given(params=_params, service=st.sampled_from(["ec2", "iam"]))
    def test_only_cloud_errors(self, params: dict[str, str], service: str) -> None:
        """Arbitrary keys and values never raise anything but CloudError."""
        action = {"ec2": "DescribeInstances", "iam": "CreateUser"}[service]
        with contextlib.suppress(CloudError):
            codec_for(service).parse({**params, "Action": action})


class TestSerialize:
    """Result dicts render as the XML bodies botocore expects."""

    def test_ec2_envelope(self) -> None:
        """ec2 bodies carry the XML declaration, the namespace and requestId first."""
        body = EC2.serialize("DeleteKeyPair", {"Return": True, "KeyPairId": "key-1"}, "r-1")
        assert body == (
            b'<?xml version="1.0" encoding="UTF-8"?>\n'
            b'<DeleteKeyPairResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">'
            b"<requestId>r-1</requestId><return>true</return><keyPairId>key-1</keyPairId>"
            b"</DeleteKeyPairResponse>"
        )

    def test_ec2_lists_use_item(self) -> None:
        """ec2 lists wrap each element in <item>, named by the member's locationName."""
        result = {"KeyPairs": [{"KeyName": "a"}, {"KeyName": "b"}]}
        body = EC2.serialize("DescribeKeyPairs", result, "r")
        assert b"<keySet><item><keyName>a</keyName></item><item><keyName>b</keyName></item>" in body

    def test_query_envelope(self) -> None:
        """query bodies wrap members in the result wrapper and end with ResponseMetadata."""
        body = IAM.serialize("ListUsers", {"Users": [{"UserName": "bob"}]}, "r-2")
        assert body == (
            b'<ListUsersResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">'
            b"<ListUsersResult><Users><member><UserName>bob</UserName></member></Users>"
            b"</ListUsersResult><ResponseMetadata><RequestId>r-2</RequestId>"
            b"</ResponseMetadata></ListUsersResponse>"
        )

    def test_query_without_output(self) -> None:
        """An operation without output shape renders only ResponseMetadata."""
        assert IAM.serialize("DeleteUser", {}, "r-3") == (
            b'<DeleteUserResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">'
            b"<ResponseMetadata><RequestId>r-3</RequestId></ResponseMetadata>"
            b"</DeleteUserResponse>"
        )

    def test_none_and_unknown_keys_omitted(self) -> None:
        """Members set to None and keys the shape lacks are left out."""
        body = EC2.serialize("DeleteKeyPair", {"Return": None, "Nope": 1, "KeyPairId": "k"}, "r")
        assert b"return" not in body
        assert b"Nope" not in body
        assert b"<keyPairId>k</keyPairId>" in body

    def test_empty_list_rendered(self) -> None:
        """An empty list renders as an empty element (botocore reads []); None omits it."""
        body = IAM.serialize("ListUsers", {"Users": [], "Marker": None}, "r")
        assert b"<ListUsersResult><Users></Users></ListUsersResult>" in body

    def test_escaping(self) -> None:
        """Text is XML-escaped: < & > \" ' become entities."""
        body = EC2.serialize("DeleteKeyPair", {"KeyPairId": "<&>\"'"}, "r")
        assert b"<keyPairId>&lt;&amp;&gt;&quot;&apos;</keyPairId>" in body

    def test_unrepresentable_characters(self) -> None:
        """CR survives as a character reference; characters XML cannot hold become U+FFFD."""
        body = EC2.serialize("DeleteKeyPair", {"KeyPairId": "a\rb\x00c\ud800"}, "r")
        assert "<keyPairId>a&#13;b\ufffdc\ufffd</keyPairId>".encode() in body

    def test_request_id_escaped(self) -> None:
        """The request id is escaped too."""
        assert b"<requestId>a&amp;b</requestId>" in EC2.serialize("DescribeVpcs", {}, "a&b")

    @pytest.mark.parametrize(
        "value",
        [
            datetime(2026, 11, 25, 10, 0, 0, tzinfo=UTC),
            datetime(2026, 11, 25, 11, 0, 0, 999, tzinfo=timezone(timedelta(hours=1))),
            datetime(2026, 11, 25, 10, 0, 0),
        ],
    )
    def test_timestamp_format(self, value: datetime) -> None:
        """Timestamps render as ISO 8601 UTC with milliseconds; naive ones count as UTC."""
        body = IAM.serialize("GetUser", {"User": {"CreateDate": value}}, "r")
        assert b"<CreateDate>2026-11-25T10:00:00.000Z</CreateDate>" in body

    def test_timestamp_milliseconds(self) -> None:
        """Sub-millisecond precision is truncated to milliseconds."""
        value = datetime(2026, 11, 25, 10, 0, 0, 123999, tzinfo=UTC)
        body = IAM.serialize("GetUser", {"User": {"CreateDate": value}}, "r")
        assert b"<CreateDate>2026-11-25T10:00:00.123Z</CreateDate>" in body

    def test_blob_base64(self) -> None:
        """Blobs render base64-encoded."""
        body = IAM.serialize("GetCredentialReport", {"Content": b"\x00\xff"}, "r")
        assert b"<Content>AP8=</Content>" in body

    def test_unknown_operation(self) -> None:
        """Serializing an operation the model lacks raises InvalidAction."""
        with pytest.raises(InvalidAction):
            IAM.serialize("Nope", {}, "r")


class TestSerializeError:
    """Error bodies have the exact shape each protocol uses."""

    def test_ec2_error(self) -> None:
        """ec2 errors: <Response><Errors><Error>…</Error></Errors><RequestID>."""
        body = EC2.serialize_error("InvalidKeyPair.NotFound", "No <key>", "r-4", sender=True)
        assert body == (
            b'<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>'
            b"<Code>InvalidKeyPair.NotFound</Code><Message>No &lt;key&gt;</Message>"
            b"</Error></Errors><RequestID>r-4</RequestID></Response>"
        )

    @pytest.mark.parametrize(("sender", "kind"), [(True, b"Sender"), (False, b"Receiver")])
    def test_query_error(self, sender: bool, kind: bytes) -> None:
        """query errors: <ErrorResponse> with Type Sender or Receiver and RequestId."""
        body = STS.serialize_error("InternalError", "a & b", "r-5", sender=sender)
        assert body == (
            b'<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error>'
            b"<Type>" + kind + b"</Type><Code>InternalError</Code><Message>a &amp; b</Message>"
            b"</Error><RequestId>r-5</RequestId></ErrorResponse>"
        )
