"""Key pairs through boto3 and the AWS CLI against a live server."""

from __future__ import annotations

import base64
import hashlib
import subprocess
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

pytestmark = [pytest.mark.live, pytest.mark.shared_cloud]


def _code(info: pytest.ExceptionInfo[ClientError]) -> str:
    return str(info.value.response["Error"]["Code"])


def _status(info: pytest.ExceptionInfo[ClientError]) -> int:
    return int(info.value.response["ResponseMetadata"]["HTTPStatusCode"])


class TestCreateKeyPair:
    def test_rsa_key_material_and_fingerprint(self, ec2: Any) -> None:
        """An RSA key's fingerprint is the SHA-1 of its PKCS#8 DER private key, as on AWS."""
        made = ec2.create_key_pair(KeyName="kp-rsa")
        assert made["KeyMaterial"].startswith("-----BEGIN RSA PRIVATE KEY-----")
        key = serialization.load_pem_private_key(made["KeyMaterial"].encode(), None)
        assert isinstance(key, rsa.RSAPrivateKey)
        der = key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        digest = hashlib.sha1(der).hexdigest()  # noqa: S324 (AWS's definition)
        assert made["KeyFingerprint"] == ":".join(
            digest[i : i + 2] for i in range(0, len(digest), 2)
        )
        assert made["KeyPairId"].startswith("key-")

    def test_ed25519_key_works_with_ssh_keygen(self, ec2: Any, tmp_path: Path) -> None:
        """An ed25519 key comes back in OpenSSH format and its public half matches."""
        made = ec2.create_key_pair(KeyName="kp-ed", KeyType="ed25519")
        pem = tmp_path / "kp-ed.pem"
        pem.write_text(made["KeyMaterial"])
        pem.chmod(0o400)
        public = subprocess.run(
            ["ssh-keygen", "-y", "-f", str(pem)], capture_output=True, text=True, check=True
        ).stdout.split()[1]
        described = ec2.describe_key_pairs(KeyNames=["kp-ed"], IncludePublicKey=True)
        pair = described["KeyPairs"][0]
        assert pair["KeyType"] == "ed25519"
        assert pair["PublicKey"].split()[1] == public
        blob = base64.b64decode(public)
        assert pair["KeyFingerprint"] == base64.b64encode(hashlib.sha256(blob).digest()).decode()

    def test_duplicate_name(self, ec2: Any) -> None:
        """A second key with the same name is InvalidKeyPair.Duplicate."""
        ec2.create_key_pair(KeyName="kp-dup")
        with pytest.raises(ClientError) as info:
            ec2.create_key_pair(KeyName="kp-dup")
        assert _code(info) == "InvalidKeyPair.Duplicate"
        assert _status(info) == 400

    def test_tag_specifications(self, ec2: Any) -> None:
        """TagSpecifications tag the new key pair, and filters find it by tag."""
        ec2.create_key_pair(
            KeyName="kp-tagged",
            TagSpecifications=[
                {"ResourceType": "key-pair", "Tags": [{"Key": "env", "Value": "dev"}]}
            ],
        )
        found = ec2.describe_key_pairs(Filters=[{"Name": "tag:env", "Values": ["dev"]}])
        assert [k["KeyName"] for k in found["KeyPairs"]] == ["kp-tagged"]
        assert found["KeyPairs"][0]["Tags"] == [{"Key": "env", "Value": "dev"}]

    def test_wrong_tag_resource_type(self, ec2: Any) -> None:
        """Tags for another resource type are refused and nothing is created."""
        with pytest.raises(ClientError) as info:
            ec2.create_key_pair(
                KeyName="kp-badspec",
                TagSpecifications=[{"ResourceType": "vpc", "Tags": [{"Key": "a", "Value": "b"}]}],
            )
        assert _code(info) == "InvalidParameterValue"
        with pytest.raises(ClientError) as info:
            ec2.describe_key_pairs(KeyNames=["kp-badspec"])
        assert _code(info) == "InvalidKeyPair.NotFound"


class TestImportKeyPair:
    def test_import_openssh_rsa_fingerprint_is_md5_of_der(self, ec2: Any) -> None:
        """An imported RSA key's fingerprint is the MD5 of its DER public key, as on AWS."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public = key.public_key()
        openssh = public.public_bytes(
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
        )
        made = ec2.import_key_pair(KeyName="kp-imported", PublicKeyMaterial=openssh)
        der = public.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        digest = hashlib.md5(der).hexdigest()  # noqa: S324 (AWS's definition)
        assert made["KeyFingerprint"] == ":".join(
            digest[i : i + 2] for i in range(0, len(digest), 2)
        )

    def test_import_ed25519_pem(self, ec2: Any) -> None:
        """A PEM ed25519 public key imports as an ed25519 key pair."""
        public = ed25519.Ed25519PrivateKey.generate().public_key()
        pem = public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        ec2.import_key_pair(KeyName="kp-ed-pem", PublicKeyMaterial=pem)
        pair = ec2.describe_key_pairs(KeyNames=["kp-ed-pem"])["KeyPairs"][0]
        assert pair["KeyType"] == "ed25519"

    def test_garbage_is_invalid_key_format(self, ec2: Any) -> None:
        """Material that is no public key is InvalidKey.Format."""
        with pytest.raises(ClientError) as info:
            ec2.import_key_pair(KeyName="kp-garbage", PublicKeyMaterial=b"not a key")
        assert _code(info) == "InvalidKey.Format"


class TestDescribeAndDelete:
    def test_describe_missing_name(self, ec2: Any) -> None:
        """Asking for a key that does not exist is InvalidKeyPair.NotFound."""
        with pytest.raises(ClientError) as info:
            ec2.describe_key_pairs(KeyNames=["no-such-key"])
        assert _code(info) == "InvalidKeyPair.NotFound"

    def test_delete_then_gone(self, ec2: Any) -> None:
        """A deleted key pair no longer appears; deleting a missing name succeeds as on AWS."""
        ec2.create_key_pair(KeyName="kp-delete")
        ec2.delete_key_pair(KeyName="kp-delete")
        names = [k["KeyName"] for k in ec2.describe_key_pairs()["KeyPairs"]]
        assert "kp-delete" not in names
        assert ec2.delete_key_pair(KeyName="kp-delete")["Return"] is True

    def test_delete_by_id(self, ec2: Any) -> None:
        """DeleteKeyPair by KeyPairId; a missing id is InvalidKeyPair.NotFound."""
        made = ec2.create_key_pair(KeyName="kp-delete-id")
        ec2.delete_key_pair(KeyPairId=made["KeyPairId"])
        with pytest.raises(ClientError) as info:
            ec2.delete_key_pair(KeyPairId=made["KeyPairId"])
        assert _code(info) == "InvalidKeyPair.NotFound"

    def test_filter_by_fingerprint_with_wildcard(self, ec2: Any) -> None:
        """Filter values take * wildcards."""
        made = ec2.create_key_pair(KeyName="kp-wild")
        found = ec2.describe_key_pairs(
            Filters=[{"Name": "fingerprint", "Values": [made["KeyFingerprint"][:8] + "*"]}]
        )
        assert "kp-wild" in [k["KeyName"] for k in found["KeyPairs"]]

    def test_unknown_filter(self, ec2: Any) -> None:
        """An unknown filter name is InvalidParameterValue."""
        with pytest.raises(ClientError) as info:
            ec2.describe_key_pairs(Filters=[{"Name": "bogus", "Values": ["x"]}])
        assert _code(info) == "InvalidParameterValue"


class TestAwsCli:
    def test_cli_create_and_describe(self, server: Any) -> None:
        """The AWS CLI, with the profile `init` wrote, creates and lists key pairs."""
        made = server.aws("ec2", "create-key-pair", "--key-name", "kp-cli")
        assert made["KeyName"] == "kp-cli"
        listed = server.aws("ec2", "describe-key-pairs", "--key-names", "kp-cli")
        assert listed["KeyPairs"][0]["KeyFingerprint"] == made["KeyFingerprint"]

    def test_cli_error_code(self, server: Any) -> None:
        """The CLI shows AWS's error code and exits non-zero."""
        result = server.aws("ec2", "describe-key-pairs", "--key-names", "nope", check=False)
        assert result.returncode != 0
        assert "InvalidKeyPair.NotFound" in result.stderr
