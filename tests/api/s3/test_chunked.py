"""aws-chunked bodies decoded as they stream (pure): the signed example of AWS's own
documentation, chunk by chunk, and the unsigned-with-trailer body botocore itself makes."""

from __future__ import annotations

import hashlib
import io

import pytest
from botocore.httpchecksum import AwsChunkedWrapper, Crc32Checksum

from pocketcloud.api.s3.chunked import SIGNED, UNSIGNED_TRAILER, Dechunker, Signing
from pocketcloud.api.sigv4 import signing_key
from pocketcloud.errors import ClientError

# "Signature Calculations for the Authorization Header: Transferring Payload in Multiple
# Chunks" (Amazon S3 API reference): 66,560 bytes of "a" in chunks of 64 KiB and 1 KiB
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
SEED = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
CHUNKS = [
    (b"a" * 65536, "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"),
    (b"a" * 1024, "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497"),
    (b"", "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"),
]


def signing() -> Signing:
    key = signing_key(SECRET, "20130524", "us-east-1", "s3")
    return Signing(key, "20130524T000000Z", "20130524/us-east-1/s3/aws4_request", SEED)


def body(chunks: list[tuple[bytes, str]]) -> bytes:
    return b"".join(b"%x;chunk-signature=%s\r\n%s\r\n" % (len(d), s.encode(), d) for d, s in chunks)


def decode(dechunker: Dechunker, data: bytes, step: int = 1000) -> bytes:
    out = b"".join(dechunker.feed(data[i : i + step]) for i in range(0, len(data), step))
    dechunker.finish()
    return out


@pytest.mark.parametrize("step", [1, 7, 1000, 100_000])
def test_the_documented_example_decodes(step: int) -> None:
    """AWS's example, fed in pieces of any size, verifies chunk by chunk and gives back
    exactly the 66,560 bytes."""
    assert decode(Dechunker(SIGNED, signing()), body(CHUNKS), step) == b"a" * 66560


def test_a_changed_byte_is_a_signature_mismatch() -> None:
    """One byte changed in the first chunk: SignatureDoesNotMatch."""
    tampered = body(CHUNKS).replace(b"aaaa", b"aaab", 1)
    with pytest.raises(ClientError) as refused:
        decode(Dechunker(SIGNED, signing()), tampered)
    assert refused.value.code == "SignatureDoesNotMatch"


def test_chunks_swapped_or_signature_missing_are_refused() -> None:
    """Chunk signatures chain: reordered or unsigned chunks do not verify."""
    swapped = body([CHUNKS[1], CHUNKS[0], CHUNKS[2]])
    with pytest.raises(ClientError) as refused:
        decode(Dechunker(SIGNED, signing()), swapped)
    assert refused.value.code in ("SignatureDoesNotMatch", "InvalidChunkSizeError")
    unsigned = b"400\r\n" + b"a" * 1024 + b"\r\n0\r\n\r\n"
    with pytest.raises(ClientError) as missing:
        decode(Dechunker(SIGNED, signing()), unsigned)
    assert missing.value.code == "SignatureDoesNotMatch"


def test_a_body_cut_short_is_incomplete() -> None:
    """A body that stops before its last chunk is IncompleteBody."""
    with pytest.raises(ClientError) as cut:
        decode(Dechunker(SIGNED, signing()), body(CHUNKS)[:-40])
    assert cut.value.code == "IncompleteBody"


def test_botocores_unsigned_trailer_body() -> None:
    """The body boto3 sends over HTTPS (STREAMING-UNSIGNED-PAYLOAD-TRAILER) decodes, its
    CRC32 in the trailer."""
    data = hashlib.sha256(b"seed").digest() * 1000
    wrapper = AwsChunkedWrapper(
        io.BytesIO(data), checksum_cls=Crc32Checksum, checksum_name="x-amz-checksum-crc32",
        chunk_size=4096,
    )  # fmt: skip
    wrapped = wrapper.read()
    dechunker = Dechunker(UNSIGNED_TRAILER)
    assert decode(dechunker, wrapped, 333) == data
    assert set(dechunker.trailers) == {"x-amz-checksum-crc32"}
