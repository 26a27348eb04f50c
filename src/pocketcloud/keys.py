"""EC2 key-pair material: generation, import and fingerprints, with AWS's semantics.

Fingerprints follow the EC2 user guide ("Verify the fingerprint of your key pair"),
which describes what EC2 actually computes:

* RSA created by EC2: SHA-1 of the DER PKCS#8 private key, ``aa:bb:...``
  (``openssl pkcs8 -topk8 -nocrypt -outform DER | openssl sha1 -c``);
* RSA imported: MD5 of the DER SubjectPublicKeyInfo, ``aa:bb:...``
  (``openssl pkey -pubin -outform DER | openssl md5 -c``). The API reference calls
  this "the MD5 public key fingerprint as specified in section 4 of RFC4716", but
  that would be ``ssh-keygen -E md5`` (MD5 of the SSH wire blob); EC2 shows the
  former, and so do we;
* ED25519, created or imported: base64 of SHA-256 of the SSH wire blob, with ``=``
  padding (``ssh-keygen -l -E sha256`` prints it without the padding).

``key_format="ppk"`` returns a PuTTY private key file, format version 2 (readable by
every PuTTY since 0.52, unencrypted, ``Private-MAC`` over an empty passphrase).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
import warnings
from dataclasses import dataclass
from enum import StrEnum

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from cryptography.hazmat.primitives.serialization import SSHPublicKeyTypes
from cryptography.utils import CryptographyDeprecationWarning

from pocketcloud.errors import ClientError, InvalidParameterValue

# what a loader may return: a PEM/DER key, or an OpenSSH one (whose types grow by release)
LoadedKey = PublicKeyTypes | SSHPublicKeyTypes

RSA_BITS = 2048
RSA_PUBLIC_EXPONENT = 65537
MIN_RSA_BITS = 1024
MAX_RSA_BITS = 16384
MAX_IMPORT_BYTES = 64 * 1024
KEY_FORMATS = ("pem", "ppk")
INVALID_KEY_CODE = "InvalidKey.Format"
INVALID_KEY_MESSAGE = "Key is not in valid OpenSSH public key format"

_OPENSSH_TYPES = {"ssh-rsa", "ssh-ed25519"}
_RFC4716_BEGIN = "---- BEGIN SSH2 PUBLIC KEY ----"
_RFC4716_END = "---- END SSH2 PUBLIC KEY ----"
_PARSE_ERRORS = (ValueError, TypeError, IndexError, struct.error, UnsupportedAlgorithm)
_PPK_MAC_KEY = b"putty-private-key-file-mac-key"

_PrivateKey = rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey


class KeyType(StrEnum):
    """The key types EC2 supports."""

    RSA = "rsa"
    ED25519 = "ed25519"


@dataclass(frozen=True)
class KeyMaterial:
    """What EC2 keeps of a key pair: its type, fingerprint and OpenSSH public key."""

    key_type: KeyType
    fingerprint: str
    public_openssh: str  # "ssh-rsa AAAA..." without a comment


@dataclass(frozen=True)
class GeneratedKey:
    """A created key pair: the kept material and the private key returned once."""

    material: KeyMaterial
    private_key: str  # CreateKeyPair's KeyMaterial


def invalid_key() -> ClientError:
    """The error ImportKeyPair raises for anything it cannot accept."""
    return ClientError(INVALID_KEY_CODE, INVALID_KEY_MESSAGE)


# ------------------------------------------------------------------------ generate


def generate(key_type: KeyType, key_format: str = "pem") -> GeneratedKey:
    """Create a key pair as CreateKeyPair does.

    RSA is 2048 bits; with ``key_format="pem"`` its private key is PEM
    "BEGIN RSA PRIVATE KEY" and ED25519's is OpenSSH "BEGIN OPENSSH PRIVATE KEY";
    ``"ppk"`` gives a PuTTY v2 key file for either. Other types or formats raise
    ``InvalidParameterValue``.
    """
    kind = _key_type(key_type)
    if key_format not in KEY_FORMATS:
        raise InvalidParameterValue(
            f"Value ({key_format}) for parameter keyFormat is invalid. "
            f"Valid values are: {', '.join(KEY_FORMATS)}."
        )
    private: _PrivateKey
    if kind is KeyType.RSA:
        private = rsa.generate_private_key(RSA_PUBLIC_EXPONENT, RSA_BITS)
        fingerprint = _colon_hex(hashlib.sha1(_pkcs8_der(private), usedforsecurity=False).digest())
    else:
        private = ed25519.Ed25519PrivateKey.generate()
        fingerprint = _sha256_base64(_ssh_blob(private.public_key()))
    material = KeyMaterial(kind, fingerprint, _openssh_line(private.public_key()))
    text = _ppk(private, f"{kind.value}-key") if key_format == "ppk" else _pem(private)
    return GeneratedKey(material, text)


def _key_type(key_type: KeyType | str) -> KeyType:
    try:
        return KeyType(key_type)
    except ValueError:
        raise InvalidParameterValue(
            f"Value ({key_type}) for parameter keyType is invalid. Valid values are: rsa, ed25519."
        ) from None


def _pkcs8_der(private: rsa.RSAPrivateKey) -> bytes:
    return private.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _pem(private: _PrivateKey) -> str:
    """RSA as traditional OpenSSL PEM, ED25519 in OpenSSH's own format (as EC2 does)."""
    if isinstance(private, rsa.RSAPrivateKey):
        fmt = serialization.PrivateFormat.TraditionalOpenSSL
    else:
        fmt = serialization.PrivateFormat.OpenSSH
    encoded = private.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption())
    return encoded.decode("ascii")


# ----------------------------------------------------------------------------- PPK


def _ppk(private: _PrivateKey, comment: str) -> str:
    """An unencrypted PuTTY-User-Key-File-2."""
    public = _ssh_blob(private.public_key())
    algorithm = _ssh_string_at(public, 0)[0].decode("ascii")
    secret = _ppk_private_blob(private)
    mac_data = b"".join(
        _ssh_string(part)
        for part in (algorithm.encode(), b"none", comment.encode("utf-8"), public, secret)
    )
    mac_key = hashlib.sha1(_PPK_MAC_KEY, usedforsecurity=False).digest()
    mac = hmac.new(mac_key, mac_data, hashlib.sha1).hexdigest()
    public_lines, private_lines = _b64_lines(public), _b64_lines(secret)
    lines = [
        f"PuTTY-User-Key-File-2: {algorithm}",
        "Encryption: none",
        f"Comment: {comment}",
        f"Public-Lines: {len(public_lines)}",
        *public_lines,
        f"Private-Lines: {len(private_lines)}",
        *private_lines,
        f"Private-MAC: {mac}",
    ]
    return "\n".join(lines) + "\n"


def _ppk_private_blob(private: _PrivateKey) -> bytes:
    """RSA: mpint d, p, q, iqmp (q^-1 mod p). ED25519: string of the 32-byte seed."""
    if isinstance(private, rsa.RSAPrivateKey):
        numbers = private.private_numbers()
        return b"".join(_mpint(n) for n in (numbers.d, numbers.p, numbers.q, numbers.iqmp))
    seed = private.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    return _ssh_string(seed)


def _b64_lines(data: bytes) -> list[str]:
    text = base64.b64encode(data).decode("ascii")
    return [text[i : i + 64] for i in range(0, len(text), 64)]


def _ssh_string(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def _mpint(value: int) -> bytes:
    return _ssh_string(value.to_bytes(value.bit_length() // 8 + 1, "big"))


def _ssh_string_at(blob: bytes, offset: int) -> tuple[bytes, int]:
    """Read an SSH ``string`` at ``offset``; return it and the offset after it."""
    (length,) = struct.unpack_from(">I", blob, offset)
    start = offset + 4
    if start + length > len(blob):
        raise ValueError("truncated SSH string")
    return blob[start : start + length], start + length


# -------------------------------------------------------------------------- import


def import_public_key(blob: bytes) -> KeyMaterial:
    """Accept a public key as ImportKeyPair does and compute its EC2 fingerprint.

    Accepted: OpenSSH one-line (``ssh-rsa``/``ssh-ed25519``), RFC 4716 SSH2, PEM
    "PUBLIC KEY" and "RSA PUBLIC KEY", DER and base64 DER (listed by AWS), and any of
    these base64-encoded once more.
    RSA must be 1024 to 16384 bits. Anything else, including DSA and ECDSA keys, raises
    ``ClientError("InvalidKey.Format", ...)``, and nothing else is ever raised.
    """
    if len(blob) > MAX_IMPORT_BYTES:
        raise invalid_key()
    try:
        key = _load(bytes(blob))
    except _PARSE_ERRORS:
        raise invalid_key() from None
    return _imported_material(key)


def _load(blob: bytes) -> LoadedKey:
    """Load a key in any accepted format, trying one extra base64 layer last.

    cryptography warns while it loads a DSA key (deprecated there); the key is then
    refused as an unsupported type, as EC2 refuses it, so the warning says nothing new.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        key = _load_direct(blob)
        if key is None:
            decoded = _b64decode(blob)
            key = None if decoded is None else _load_direct(decoded)
    if key is None:
        raise ValueError("unrecognised key format")
    return key


def _load_direct(blob: bytes) -> LoadedKey | None:
    """Load a text format recognised by its header, else DER or base64 DER.

    Returns None when nothing fits; a recognised header with bad content raises.
    """
    try:
        text = blob.decode("utf-8").lstrip("\ufeff").strip()
    except UnicodeDecodeError:
        return _load_der(blob)
    key = _load_text(text) if text else None
    if key is None:
        key = _load_der(blob)
    if key is None:
        key = _load_der(_b64decode(blob))
    return key


def _b64decode(blob: bytes) -> bytes | None:
    try:
        return base64.b64decode(b"".join(blob.split()), validate=True)
    except ValueError:
        return None


def _load_der(blob: bytes | None) -> LoadedKey | None:
    if not blob:
        return None
    try:
        return serialization.load_der_public_key(blob)
    except (ValueError, UnsupportedAlgorithm):
        return None


def _load_text(text: str) -> LoadedKey | None:
    if text.startswith("-----BEGIN "):
        return serialization.load_pem_public_key(text.encode("ascii"))
    if text.startswith(_RFC4716_BEGIN):
        return _load_rfc4716(text)
    if text.startswith(("ssh-", "ecdsa-", "sk-")):
        return _load_openssh(text)
    return None


def _load_openssh(text: str) -> LoadedKey:
    """One line: ``<type> <base64 blob> [comment]``."""
    if "\n" in text or "\r" in text:
        raise ValueError("more than one line")
    key_type, encoded = text.split()[:2]
    if key_type not in _OPENSSH_TYPES:
        raise ValueError(f"unsupported key type {key_type}")
    return serialization.load_ssh_public_key(f"{key_type} {encoded}".encode("ascii"))


def _load_rfc4716(text: str) -> LoadedKey:
    """RFC 4716: BEGIN line, ``Tag: value`` headers (``\\`` continues), base64, END line."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) < 3 or lines[0] != _RFC4716_BEGIN or lines[-1] != _RFC4716_END:
        raise ValueError("not an RFC 4716 key")
    body = _rfc4716_body(lines[1:-1])
    blob = base64.b64decode("".join(body), validate=True)
    key_type = _ssh_string_at(blob, 0)[0].decode("ascii")
    return _load_openssh(f"{key_type} {base64.b64encode(blob).decode('ascii')}")


def _rfc4716_body(lines: list[str]) -> list[str]:
    """Drop the header lines (and their continuations) that precede the base64 body."""
    index, continued = 0, False
    while index < len(lines) and (continued or ":" in lines[index]):
        continued = lines[index].endswith("\\")
        index += 1
    return lines[index:]


def _imported_material(key: LoadedKey) -> KeyMaterial:
    if isinstance(key, rsa.RSAPublicKey):
        if not MIN_RSA_BITS <= key.key_size <= MAX_RSA_BITS:
            raise invalid_key()
        der = key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        fingerprint = _colon_hex(hashlib.md5(der, usedforsecurity=False).digest())
        return KeyMaterial(KeyType.RSA, fingerprint, _openssh_line(key))
    if isinstance(key, ed25519.Ed25519PublicKey):
        fingerprint = _sha256_base64(_ssh_blob(key))
        return KeyMaterial(KeyType.ED25519, fingerprint, _openssh_line(key))
    raise invalid_key()


# -------------------------------------------------------------------- fingerprints


def _openssh_line(key: rsa.RSAPublicKey | ed25519.Ed25519PublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    ).decode("ascii")


def _ssh_blob(key: rsa.RSAPublicKey | ed25519.Ed25519PublicKey) -> bytes:
    """The SSH wire encoding of a public key (the base64 part of the OpenSSH line)."""
    return base64.b64decode(_openssh_line(key).split()[1])


def _colon_hex(digest: bytes) -> str:
    return ":".join(f"{byte:02x}" for byte in digest)


def _sha256_base64(blob: bytes) -> str:
    return base64.b64encode(hashlib.sha256(blob).digest()).decode("ascii")
