"""PostObject on the wire: a browser's upload, an HTML form posted to a bucket as
``multipart/form-data`` that carries its own authentication, a POST policy signed with
the uploader's key, instead of a signed request. botocore's model has no such operation
(boto3's ``generate_presigned_post`` builds the form), so the edge routes a POST to a
bucket without a subresource here, before its codec.

    fields (≤ 20 KB) → the file part begins: ${filename} expanded, key, signature fields
      → signer (InvalidAccessKeyId, SignatureDoesNotMatch, session token) → policy
      (expiration, conditions, every field covered) → IAM: s3:PutObject on the key
      → bucket, ACL, tags → the file streamed into a blob (content-length-range, digests)
      → stored as PutObject stores it (versions) → 204 / 200 / 201 PostResponse / 303

A form without signature fields is anonymous: only a bucket policy granting PutObject to
everyone lets it in. Fields after the file are ignored, as S3 ignores them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from pocketcloud.api.asgi import Disconnected, Receive, Scope, Send, body_chunks
from pocketcloud.api.authenticate import authenticate_form
from pocketcloud.api.authorize import authorize
from pocketcloud.api.restxml import HttpCall, RestXml
from pocketcloud.api.s3 import checksums, cors, formdata, hosts, post_form, post_policy
from pocketcloud.api.s3.tagging import pairs
from pocketcloud.errors import ClientError
from pocketcloud.services.context import Cloud
from pocketcloud.services.iam.principals import ANONYMOUS, Principal
from pocketcloud.services.s3 import objects, ownership, tagging
from pocketcloud.services.s3.common import blobs, owner, require_bucket
from pocketcloud.store.blobs import BlobWriter

#: the x-amz-grant-* fields (PutObject's grant headers)
_GRANTS = ("x-amz-grant-full-control", "x-amz-grant-read", "x-amz-grant-read-acp",
           "x-amz-grant-write", "x-amz-grant-write-acp")  # fmt: skip
_CHECKSUMS = frozenset(checksums.PREFIX + name for name in checksums.MEMBERS)


@dataclass(frozen=True)
class Request:
    """What the edge knows of a POST to a bucket: the cloud, its codec (for the tagging
    field's XML) and clock, the ASGI scope, folded headers and the path-style path."""

    cloud: Cloud
    codec: RestXml
    clock: Callable[[], datetime]
    scope: Scope
    headers: dict[str, str]
    path: str

    @property
    def bucket(self) -> str:
        return self.path.strip("/")

    @property
    def source_ip(self) -> str:
        client = self.scope.get("client") or ("127.0.0.1", 0)
        return str(client[0])


def addresses(method: str, path: str, query: str) -> bool:
    """Whether a request (path-style ``path``) is PostObject's: a POST to a bucket with no
    subresource."""
    bucket = path.strip("/")
    return method == "POST" and not query and bool(bucket) and "/" not in bucket


async def serve(
    request: Request, receive: Receive, send: Send, ids: list[tuple[bytes, bytes]]
) -> None:
    """Store the form's file as its key's object and answer as the form asks (ClientError
    in S3's words otherwise; nothing is stored then). Writes a blob, commits a row."""
    try:
        boundary = formdata.boundary_of(request.headers.get("content-type", ""))
    except formdata.FormError:
        raise post_form.malformed() from None
    if boundary is None:
        raise post_form.not_multipart()
    upload = _Upload(request)
    try:
        await upload.receive(receive, boundary)
        answer = upload.store()
    finally:
        upload.discard()
    allow = cors.response_headers(request.cloud, "POST", request.path, request.headers)
    await _send(send, answer, ids, allow)


@dataclass(frozen=True)
class _Admitted:
    """What the fields decided when the file began: the form, the key, the policy (None
    for an anonymous form), the object's attributes and the checksums the form declares
    (``x-amz-checksum-*``)."""

    form: post_form.Form
    key: str
    policy: post_policy.PostPolicy | None
    attrs: objects.ObjectAttrs
    checksums: dict[str, str]
    writer: BlobWriter


class _Upload:
    """One form being read: fields, then the file into a blob."""

    def __init__(self, request: Request) -> None:
        self.request = request
        self.fields: list[tuple[str, str]] = []
        self.admitted: _Admitted | None = None
        self.size = 0
        self.limit: int | None = None  # the policy's largest size: past it, bytes are counted only
        self.done = False

    async def receive(self, receive: Receive, boundary: bytes) -> None:
        """The whole body: fields, the file streamed to a blob, the rest read and ignored."""
        reader = formdata.FormReader(boundary, max_fields=post_form.MAX_FIELDS)
        try:
            async for chunk in body_chunks(receive):
                if not self.done:
                    self._feed(reader, chunk)
        except Disconnected:
            raise ClientError("IncompleteBody", "The request body ended early.") from None
        if self.done:
            return
        if self.admitted is None and reader.ended:  # a whole form, without a file
            raise post_form.no_file()
        raise post_form.malformed()

    def _feed(self, reader: formdata.FormReader, chunk: bytes) -> None:
        try:
            events = reader.feed(chunk)
        except formdata.FieldsTooLarge:
            raise post_form.fields_too_large() from None
        except formdata.FormError:
            raise post_form.malformed() from None
        for event in events:
            if isinstance(event, formdata.Field):
                self.fields.append((event.name, _text(event.value)))
            elif isinstance(event, formdata.FileStart):
                self.admitted = self._admit(event.filename)
            elif isinstance(event, formdata.FileData):
                self._write(event.data)
            else:
                self.done = True
                return

    def _admit(self, filename: str | None) -> _Admitted:
        """Everything the fields decide, before a byte of the file is kept."""
        req = self.request
        form = post_form.Form.of(self.fields, filename)
        key = form.get("key")
        if not key:
            raise post_form.missing("key")
        if len(key.encode("utf-8")) > objects.MAX_KEY_BYTES:
            raise ClientError("KeyTooLongError", "Your key is too long")
        claim = post_form.claim_of(form)
        principal, region, policy = self._signer(claim, form)
        params = {"Bucket": req.bucket, "Key": key}
        authorize(req.cloud, principal, "s3", "PutObject", params, req.source_ip, region)
        require_bucket(req.cloud, req.bucket)
        grants = any(form.get(name) for name in _GRANTS)
        acl = ownership.AclRequest(form.get("acl"), grants)
        ownership.check_acl(req.cloud, req.bucket, owner(req.cloud).id, acl)
        attrs = objects.ObjectAttrs(
            post_form.content_type(form), post_form.stored_headers(form),
            post_form.metadata(form), self._tags(form.get("tagging")),
        )  # fmt: skip
        size_range = policy.size_range() if policy else None
        self.limit = size_range[1] if size_range else None
        declared = {name: value for name, value in form.values.items() if name in _CHECKSUMS}
        hashers = dict(checksums.wanted(declared))  # before the blob: it may refuse one
        writer = blobs(req.cloud).writer()
        writer.hashers = hashers
        return _Admitted(form, key, policy, attrs, declared, writer)

    def _signer(
        self, claim: post_form.Claim | None, form: post_form.Form
    ) -> tuple[Principal, str, post_policy.PostPolicy | None]:
        """Who signed the form, the region it signed for, and its policy, checked."""
        req = self.request
        if claim is None:
            return ANONYMOUS, req.cloud.region, None
        now = req.clock()
        principal = authenticate_form(req.cloud, claim.access_key_id, claim.signature,
                                      claim.expected, claim.token, now)  # fmt: skip
        policy = post_policy.decode(claim.policy)
        post_policy.check(policy, form.values, form.names, req.bucket, now)
        region = claim.credential.region if claim.credential else req.cloud.region
        return principal, region, policy

    def _tags(self, text: str | None) -> dict[str, str]:
        """The tags of the ``tagging`` field (``<Tagging><TagSet><Tag>…``)."""
        if not text:
            return {}
        call = HttpCall("PUT", "/bucket/key", "tagging", {})
        params = self.request.codec.parse("PutObjectTagging", call, text.encode("utf-8"))
        return tagging.checked(pairs(params), tagging.MAX_OBJECT_TAGS)

    def _write(self, data: bytes) -> None:
        self.size += len(data)
        if self.limit is not None and self.size > self.limit:
            return  # too large: counted to the end, to answer with its size, never kept
        assert self.admitted is not None  # FileData follows FileStart
        self.admitted.writer.write(data)

    def store(self) -> post_form.Answer:
        """The file, received whole, checked and stored as the key's object."""
        assert self.admitted is not None  # receive ends with the file read (or raises)
        admitted, req = self.admitted, self.request
        writer = admitted.writer
        if admitted.policy is not None:
            post_policy.check_size(admitted.policy, self.size)
        checksums.check_md5(admitted.form.get("content-md5"), writer.md5.digest())
        writer.checksums = checksums.check(admitted.checksums, writer.hashers)
        attrs = replace(admitted.attrs, headers={**admitted.attrs.headers, **writer.checksums})
        stored = objects.put_object(req.cloud, req.bucket, admitted.key, writer, attrs)
        host = req.headers.get("host", "")
        virtual = hosts.bucket_of(host) is not None
        scheme = str(req.scope.get("scheme", "http"))
        url = post_form.location(scheme, host, req.bucket, admitted.key, virtual)
        answer = post_form.answer(admitted.form, req.bucket, admitted.key, stored.etag, url)
        if stored.version_id != objects.NULL_VERSION:
            answer.headers.append(("x-amz-version-id", stored.version_id))
        answer.headers.extend(writer.checksums.items())
        return answer

    def discard(self) -> None:
        """Drop the blob unless it was stored (a no-op then)."""
        if self.admitted is not None:
            self.admitted.writer.discard()


def _text(value: bytes) -> str:
    """A field's value: UTF-8, as the form and policy must be (MalformedPOSTRequest)."""
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        raise post_form.malformed() from None


async def _send(
    send: Send,
    answer: post_form.Answer,
    ids: list[tuple[bytes, bytes]],
    extra: list[tuple[str, str]],
) -> None:
    headers = [*answer.headers, *extra]
    raw = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers]
    raw += ids
    if answer.status != 204:  # a 204 has neither body nor length
        raw.append((b"content-length", str(len(answer.body)).encode()))
    await send({"type": "http.response.start", "status": answer.status, "headers": raw})
    await send({"type": "http.response.body", "body": answer.body})
