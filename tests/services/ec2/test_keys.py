"""EC2 key-pair material, checked against ssh-keygen, openssl and puttygen.

Fingerprints are recomputed with the commands of the EC2 user guide ("Verify the
fingerprint of your key pair"); inputs for import are produced by ssh-keygen and
openssl, not by the code under test.
"""

from __future__ import annotations

import base64
import os
import shutil
import struct
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pocketcloud.errors import ClientError, InvalidParameterValue
from pocketcloud.services.ec2.keys import (
    INVALID_KEY_CODE,
    INVALID_KEY_MESSAGE,
    GeneratedKey,
    KeyMaterial,
    KeyType,
    generate,
    import_public_key,
)

needs_ssh_keygen = pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="no ssh-keygen")
needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl")
needs_puttygen = pytest.mark.skipif(shutil.which("puttygen") is None, reason="no puttygen")


# ------------------------------------------------------------------------- helpers


def run(*args: str | Path, stdin: bytes | None = None) -> bytes:
    """Run a tool, failing the test on a non-zero exit; return its stdout."""
    done = subprocess.run(
        [str(arg) for arg in args], input=stdin, capture_output=True, check=False, timeout=60
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return done.stdout


def openssl_digest(algorithm: str, data: bytes) -> str:
    """``openssl <algorithm> -c``: colon-separated lower-case hex."""
    return run("openssl", algorithm, "-c", stdin=data).decode().split("= ")[1].strip()


def private_file(tmp_path: Path, text: str, name: str = "key") -> Path:
    """Write a private key with the 0600 mode ssh-keygen insists on."""
    path = tmp_path / name
    path.write_text(text)
    path.chmod(0o600)
    return path


def ssh_keygen_sha256(path: Path) -> str:
    """``ssh-keygen -l -E sha256``'s base64 digest, padded with '=' as EC2 shows it."""
    digest = run("ssh-keygen", "-l", "-E", "sha256", "-f", path).split()[1].decode()
    assert digest.startswith("SHA256:")
    return digest.removeprefix("SHA256:") + "="


def spki_md5(pkcs8_pem: bytes) -> str:
    """EC2's imported-RSA fingerprint: ``openssl pkey -pubin -outform DER | openssl md5 -c``."""
    der = run("openssl", "pkey", "-pubin", "-outform", "DER", stdin=pkcs8_pem)
    return openssl_digest("md5", der)


def without_comment(line: bytes | str) -> str:
    """An OpenSSH public key line without its comment."""
    text = line.decode() if isinstance(line, bytes) else line
    return " ".join(text.split()[:2])


def rejected(blob: bytes) -> None:
    """Assert ImportKeyPair's InvalidKey.Format error for ``blob``."""
    with pytest.raises(ClientError) as caught:
        import_public_key(blob)
    assert caught.value.code == INVALID_KEY_CODE
    assert caught.value.message == INVALID_KEY_MESSAGE
    assert caught.value.status == 400


def ssh_string(data: bytes) -> bytes:
    """The SSH wire ``string`` encoding."""
    return struct.pack(">I", len(data)) + data


def read_ppk(text: str) -> dict[str, str | bytes]:
    """Parse a PPK v2 file into its header fields and decoded blobs."""
    lines = text.splitlines()
    fields: dict[str, str | bytes] = {}
    index = 0
    while index < len(lines):
        name, _, value = lines[index].partition(": ")
        index += 1
        if name in ("Public-Lines", "Private-Lines"):
            count = int(value)
            fields[name] = base64.b64decode("".join(lines[index : index + count]))
            index += count
        else:
            fields[name] = value
    return fields


def read_mpints(blob: bytes) -> list[int]:
    """Read consecutive SSH mpints."""
    values, offset = [], 0
    while offset < len(blob):
        (length,) = struct.unpack_from(">I", blob, offset)
        values.append(int.from_bytes(blob[offset + 4 : offset + 4 + length], "big"))
        offset += 4 + length
    return values


Generated = dict[tuple[KeyType, str], GeneratedKey]


@dataclass(frozen=True)
class ToolKey:
    """A key pair made by ssh-keygen, with its public key in every format, by the tools."""

    private: Path
    openssh: bytes  # the .pub line, with a comment
    rfc4716: bytes
    pem_spki: bytes
    pem_pkcs1: bytes | None  # RSA only
    der: bytes


def tool_key(directory: Path, key_type: str, bits: int | None = None) -> ToolKey:
    """Create a key with ssh-keygen and export its public key with ssh-keygen/openssl."""
    path = directory / f"id_{key_type}_{bits}"
    size = ["-b", str(bits)] if bits else []
    run("ssh-keygen", "-q", "-t", key_type, *size, "-N", "", "-C", "me@host é", "-f", path)
    pub = Path(f"{path}.pub")
    rfc4716 = run("ssh-keygen", "-e", "-f", pub)
    if key_type == "rsa":
        pem_spki = run("ssh-keygen", "-e", "-m", "PKCS8", "-f", pub)
        pem_pkcs1: bytes | None = run("ssh-keygen", "-e", "-m", "PEM", "-f", pub)
    else:  # ssh-keygen cannot export ED25519 as PEM; cryptography can
        loaded = serialization.load_ssh_public_key(pub.read_bytes())
        pem_spki = loaded.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        pem_pkcs1 = None
    der = run("openssl", "pkey", "-pubin", "-outform", "DER", stdin=pem_spki)
    return ToolKey(path, pub.read_bytes(), rfc4716, pem_spki, pem_pkcs1, der)


@pytest.fixture(scope="module")
def rsa_key(tmp_path_factory: pytest.TempPathFactory) -> ToolKey:
    """A 2048-bit RSA key from ssh-keygen."""
    return tool_key(tmp_path_factory.mktemp("rsa"), "rsa", 2048)


@pytest.fixture(scope="module")
def ed_key(tmp_path_factory: pytest.TempPathFactory) -> ToolKey:
    """An ED25519 key from ssh-keygen."""
    return tool_key(tmp_path_factory.mktemp("ed25519"), "ed25519")


@pytest.fixture(scope="module")
def generated() -> Generated:
    """One generated key per type and format."""
    return {(kind, fmt): generate(kind, fmt) for kind in KeyType for fmt in ("pem", "ppk")}


# ------------------------------------------------------------------------ generate


@needs_ssh_keygen
@needs_openssl
class TestGenerate:
    """``generate`` returns what CreateKeyPair returns."""

    def test_rsa_pem_is_traditional_openssl(self, generated: Generated) -> None:
        """A created RSA key is 2048 bits, PEM 'BEGIN RSA PRIVATE KEY'."""
        key = generated[KeyType.RSA, "pem"]
        assert key.private_key.startswith("-----BEGIN RSA PRIVATE KEY-----\n")
        assert key.private_key.rstrip().endswith("-----END RSA PRIVATE KEY-----")
        loaded = serialization.load_pem_private_key(key.private_key.encode(), None)
        assert isinstance(loaded, rsa.RSAPrivateKey)
        assert loaded.key_size == 2048
        assert key.material.key_type is KeyType.RSA

    def test_rsa_fingerprint_is_sha1_of_pkcs8(self, generated: Generated, tmp_path: Path) -> None:
        """A created RSA fingerprint is ``openssl pkcs8 -topk8 -nocrypt -outform DER | sha1 -c``."""
        key = generated[KeyType.RSA, "pem"]
        path = private_file(tmp_path, key.private_key)
        der = run("openssl", "pkcs8", "-in", path, "-outform", "DER", "-topk8", "-nocrypt")
        assert key.material.fingerprint == openssl_digest("sha1", der)
        assert len(key.material.fingerprint.split(":")) == 20

    @pytest.mark.parametrize("kind", list(KeyType))
    def test_private_key_works_with_ssh_keygen(
        self, kind: KeyType, generated: Generated, tmp_path: Path
    ) -> None:
        """``ssh-keygen -y`` loads the private key and derives the same public key."""
        key = generated[kind, "pem"]
        derived = run("ssh-keygen", "-y", "-f", private_file(tmp_path, key.private_key))
        assert without_comment(derived) == key.material.public_openssh

    def test_ed25519_is_openssh_format(self, generated: Generated) -> None:
        """A created ED25519 private key is in OpenSSH's own format."""
        key = generated[KeyType.ED25519, "pem"]
        assert key.private_key.startswith("-----BEGIN OPENSSH PRIVATE KEY-----\n")
        assert key.material.key_type is KeyType.ED25519
        assert key.material.public_openssh.startswith("ssh-ed25519 AAAA")

    def test_ed25519_fingerprint_is_ssh_keygen_sha256(
        self, generated: Generated, tmp_path: Path
    ) -> None:
        """A created ED25519 fingerprint is ssh-keygen's SHA256, '='-padded."""
        key = generated[KeyType.ED25519, "pem"]
        path = private_file(tmp_path, key.private_key)
        assert key.material.fingerprint == ssh_keygen_sha256(path)
        assert key.material.fingerprint.endswith("=")

    def test_public_openssh_has_no_comment(self, generated: Generated) -> None:
        """The kept public key is '<type> <base64>' with no comment."""
        for key in generated.values():
            assert len(key.material.public_openssh.split()) == 2

    def test_created_rsa_fingerprint_is_not_the_imported_one(self, generated: Generated) -> None:
        """Re-importing a created RSA public key gives the MD5 (import) fingerprint instead."""
        key = generated[KeyType.RSA, "pem"]
        imported = import_public_key(key.material.public_openssh.encode())
        assert imported.public_openssh == key.material.public_openssh
        assert imported.fingerprint != key.material.fingerprint
        pem = serialization.load_pem_private_key(key.private_key.encode(), None).public_key()
        spki = pem.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        assert imported.fingerprint == spki_md5(spki)

    def test_keys_are_fresh(self) -> None:
        """Two calls never return the same key."""
        assert generate(KeyType.ED25519).private_key != generate(KeyType.ED25519).private_key

    def test_ppk_rsa_structure(self, generated: Generated) -> None:
        """The RSA PPK v2 holds the same public blob and d, p, q, iqmp of that modulus."""
        key = generated[KeyType.RSA, "ppk"]
        fields = read_ppk(key.private_key)
        assert fields["PuTTY-User-Key-File-2"] == "ssh-rsa"
        assert fields["Encryption"] == "none"
        public = base64.b64decode(key.material.public_openssh.split()[1])
        assert fields["Public-Lines"] == public
        private = fields["Private-Lines"]
        assert isinstance(private, bytes)
        d, p, q, iqmp = read_mpints(private)
        e, n = read_mpints(public[len(ssh_string(b"ssh-rsa")) :])
        assert p * q == n
        assert (q * iqmp) % p == 1
        assert (e * d) % ((p - 1) * (q - 1) // _gcd(p - 1, q - 1)) == 1
        assert len(str(fields["Private-MAC"])) == 40

    @needs_puttygen
    @pytest.mark.parametrize("kind", list(KeyType))
    def test_ppk_loads_in_puttygen(
        self, kind: KeyType, generated: Generated, tmp_path: Path
    ) -> None:
        """puttygen accepts the PPK (MAC checked) and converts it to the same key pair."""
        key = generated[kind, "ppk"]
        assert key.private_key.startswith("PuTTY-User-Key-File-2: ssh-")
        ppk = private_file(tmp_path, key.private_key, "key.ppk")
        public = run("puttygen", ppk, "-O", "public-openssh", "-o", "/dev/stdout")
        assert without_comment(public) == key.material.public_openssh
        converted = tmp_path / "converted"
        run("puttygen", ppk, "-O", "private-openssh-new", "-o", converted)
        converted.chmod(0o600)
        assert without_comment(run("ssh-keygen", "-y", "-f", converted)) == (
            key.material.public_openssh
        )

    def test_ppk_has_the_pem_fingerprint_definition(self, generated: Generated) -> None:
        """The fingerprint does not depend on the format: ED25519 ppk uses the blob's SHA-256."""
        key = generated[KeyType.ED25519, "ppk"]
        assert key.material == import_public_key(key.material.public_openssh.encode())

    @pytest.mark.parametrize("key_format", ["der", "PEM", "", "openssh"])
    def test_unknown_format(self, key_format: str) -> None:
        """A key format other than pem or ppk is InvalidParameterValue."""
        with pytest.raises(InvalidParameterValue) as caught:
            generate(KeyType.RSA, key_format)
        assert key_format in caught.value.message

    def test_unknown_type(self) -> None:
        """A key type other than rsa or ed25519 is InvalidParameterValue."""
        with pytest.raises(InvalidParameterValue):
            generate("dsa")  # type: ignore[arg-type]


def _gcd(a: int, b: int) -> int:
    while b:
        a, b = b, a % b
    return a


# -------------------------------------------------------------------------- import


FORMATS: dict[str, Callable[[ToolKey], bytes | None]] = {
    "openssh": lambda k: k.openssh,
    "openssh-crlf-bom": lambda k: b"\xef\xbb\xbf" + k.openssh.rstrip() + b"\r\n",
    "rfc4716": lambda k: k.rfc4716,
    "pem-spki": lambda k: k.pem_spki,
    "pem-pkcs1": lambda k: k.pem_pkcs1,
    "der": lambda k: k.der,
    "der-base64": lambda k: base64.b64encode(k.der),
}


def base64_once_more(blob: bytes | None) -> bytes | None:
    """The file base64-encoded once more, as some users pass it."""
    return None if blob is None else base64.encodebytes(blob)


@needs_ssh_keygen
@needs_openssl
class TestImport:
    """``import_public_key`` accepts ImportKeyPair's formats, fingerprinting like EC2."""

    @pytest.mark.parametrize("wrapped", [False, True], ids=["plain", "base64"])
    @pytest.mark.parametrize("fmt", list(FORMATS))
    def test_rsa_formats(self, rsa_key: ToolKey, fmt: str, wrapped: bool) -> None:
        """Every RSA format (and its base64) imports with the MD5-of-SPKI fingerprint."""
        blob = FORMATS[fmt](rsa_key)
        blob = base64_once_more(blob) if wrapped else blob
        assert blob is not None
        material = import_public_key(blob)
        assert material == KeyMaterial(
            KeyType.RSA, spki_md5(rsa_key.pem_spki), without_comment(rsa_key.openssh)
        )

    @pytest.mark.parametrize("wrapped", [False, True], ids=["plain", "base64"])
    @pytest.mark.parametrize("fmt", [name for name in FORMATS if name != "pem-pkcs1"])
    def test_ed25519_formats(self, ed_key: ToolKey, fmt: str, wrapped: bool) -> None:
        """Every ED25519 format (and its base64) imports with ssh-keygen's SHA256, padded."""
        blob = FORMATS[fmt](ed_key)
        blob = base64_once_more(blob) if wrapped else blob
        assert blob is not None
        pub = Path(f"{ed_key.private}.pub")
        material = import_public_key(blob)
        assert material == KeyMaterial(
            KeyType.ED25519, ssh_keygen_sha256(pub), without_comment(ed_key.openssh)
        )

    def test_rsa_fingerprint_is_not_rfc4716_md5(self, rsa_key: ToolKey) -> None:
        """EC2's imported-RSA MD5 is over the DER SPKI, not the SSH blob ssh-keygen -E md5 uses."""
        pub = Path(f"{rsa_key.private}.pub")
        ssh_md5 = run("ssh-keygen", "-l", "-E", "md5", "-f", pub).split()[1].decode()
        assert import_public_key(rsa_key.openssh).fingerprint != ssh_md5.removeprefix("MD5:")

    def test_rsa_1024_accepted(self, tmp_path: Path) -> None:
        """A 1024-bit RSA key, the smallest EC2 takes, imports."""
        key = tool_key(tmp_path, "rsa", 1024)
        assert import_public_key(key.openssh).key_type is KeyType.RSA

    def test_rfc4716_continued_headers(self, rsa_key: ToolKey) -> None:
        """RFC 4716 headers continued with a backslash, and x- tags, are skipped."""
        body = base64.b64encode(base64.b64decode(rsa_key.openssh.split()[1])).decode()
        lines = [
            "---- BEGIN SSH2 PUBLIC KEY ----",
            'Comment: "a very long comment that goes on and on \\',
            'and continues: here, with a colon"',
            "x-command: /bin/true",
            *(body[i : i + 70] for i in range(0, len(body), 70)),
            "---- END SSH2 PUBLIC KEY ----",
        ]
        material = import_public_key("\r\n".join(lines).encode())
        assert material.public_openssh == without_comment(rsa_key.openssh)

    def test_openssh_comment_is_dropped(self, ed_key: ToolKey) -> None:
        """Comments with spaces and UTF-8 are accepted and not kept."""
        line = without_comment(ed_key.openssh) + " comment with spaces ünï\n"
        assert import_public_key(line.encode()).public_openssh == without_comment(ed_key.openssh)

    @pytest.mark.parametrize("key_type", ["dsa", "ecdsa"])
    def test_other_algorithms_rejected(self, tmp_path: Path, key_type: str) -> None:
        """DSA and ECDSA keys are rejected in OpenSSH, RFC 4716 and PEM form."""
        path = tmp_path / key_type
        run("ssh-keygen", "-q", "-t", key_type, "-N", "", "-f", path)
        pub = Path(f"{path}.pub")
        rejected(pub.read_bytes())
        rejected(run("ssh-keygen", "-e", "-f", pub))
        rejected(run("ssh-keygen", "-e", "-m", "PKCS8", "-f", pub))
        rejected(base64.b64encode(pub.read_bytes()))

    def test_certificate_rejected(self, tmp_path: Path, ed_key: ToolKey) -> None:
        """An OpenSSH certificate is not a public key."""
        ca = tmp_path / "ca"
        run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", ca)
        pub = tmp_path / "user.pub"
        pub.write_bytes(ed_key.openssh)
        run("ssh-keygen", "-q", "-s", ca, "-I", "id", "-n", "user", pub)
        rejected((tmp_path / "user-cert.pub").read_bytes())

    def test_short_rsa_rejected(self) -> None:
        """An RSA key under 1024 bits is rejected."""
        n = (1 << 767) | int.from_bytes(os.urandom(96)) | 1
        short = rsa.RSAPublicNumbers(65537, n).public_key()
        line = short.public_bytes(
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
        )
        rejected(line)
        rejected(
            short.public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )

    def test_private_key_rejected(self, rsa_key: ToolKey) -> None:
        """A private key is not accepted as a public key."""
        rejected(rsa_key.private.read_bytes())

    @pytest.mark.parametrize(
        "blob",
        [
            b"",
            b"   \n",
            b"ssh-rsa",
            b"ssh-rsa !!!not-base64!!!",
            b"ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ",
            b"hello world",
            b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
            b"---- BEGIN SSH2 PUBLIC KEY ----\nAAAAC3NzaC1lZDI1NTE5\n",
            b"\x00\x01\x02\xff" * 10,
            b"x" * 70_000,
        ],
    )
    def test_garbage_rejected(self, blob: bytes) -> None:
        """Empty, truncated, unrecognised and oversized inputs are rejected."""
        rejected(blob)

    def test_type_label_must_match_blob(self, rsa_key: ToolKey) -> None:
        """An RSA blob labelled ssh-ed25519 is rejected."""
        rejected(b"ssh-ed25519 " + rsa_key.openssh.split()[1])

    def test_two_keys_rejected(self, rsa_key: ToolKey, ed_key: ToolKey) -> None:
        """A file with two keys on two lines is rejected."""
        rejected(rsa_key.openssh + ed_key.openssh)

    def test_base64_only_once(self, ed_key: ToolKey) -> None:
        """A key base64-encoded twice is rejected."""
        rejected(base64.b64encode(base64.b64encode(ed_key.openssh)))


# ------------------------------------------------------------------ never raises


def _valid_samples() -> list[bytes]:
    """Valid inputs of every shape, made with cryptography (no subprocess at import)."""
    rsa_public = rsa.generate_private_key(65537, 2048).public_key()
    ed_public = ed25519.Ed25519PrivateKey.generate().public_key()
    ec_public = ec.generate_private_key(ec.SECP256R1()).public_key()
    samples = []
    for key in (rsa_public, ed_public, ec_public):
        line = key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        pem = key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        samples += [line, pem, base64.b64encode(line), base64.b64encode(pem)]
    samples.append(b"---- BEGIN SSH2 PUBLIC KEY ----\n" + samples[0].split()[1])
    samples[-1] += b"\n---- END SSH2 PUBLIC KEY ----\n"
    return samples


VALID_SAMPLES = _valid_samples()


def _outcome(blob: bytes) -> None:
    """Assert the only two outcomes: KeyMaterial, or exactly ClientError InvalidKey.Format."""
    result: KeyMaterial | ClientError
    try:
        result = import_public_key(blob)
    except ClientError as error:
        result = error
    if isinstance(result, ClientError):
        assert (type(result), result.code) == (ClientError, INVALID_KEY_CODE)
    else:
        assert isinstance(result, KeyMaterial)


class TestImportNeverRaisesAnythingElse:
    """``import_public_key`` returns KeyMaterial or raises InvalidKey.Format, for any bytes."""

    @settings(max_examples=300, deadline=None)
    @given(st.binary())
    def test_arbitrary_bytes(self, blob: bytes) -> None:
        """Arbitrary bytes never raise anything but InvalidKey.Format."""
        _outcome(blob)

    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        sample=st.sampled_from(VALID_SAMPLES),
        edits=st.lists(st.tuples(st.integers(0, 4000), st.binary(max_size=4)), max_size=4),
        cut=st.integers(0, 4000),
    )
    def test_mutated_valid_keys(
        self, sample: bytes, edits: list[tuple[int, bytes]], cut: int
    ) -> None:
        """Valid keys with bytes replaced and the end cut never raise anything else."""
        blob = bytearray(sample)
        for position, data in edits:
            index = position % (len(blob) + 1)
            blob[index : index + len(data)] = data
        _outcome(bytes(blob[: max(cut, len(blob) // 2)]))

    def test_samples_are_valid_or_rejected_cleanly(self) -> None:
        """The unmutated samples import, except the ECDSA ones which are rejected."""
        outcomes: list[KeyType | None] = []
        for blob in VALID_SAMPLES:
            try:
                outcomes.append(import_public_key(blob).key_type)
            except ClientError:
                outcomes.append(None)
        assert outcomes == [KeyType.RSA] * 4 + [KeyType.ED25519] * 4 + [None] * 4 + [KeyType.RSA]
