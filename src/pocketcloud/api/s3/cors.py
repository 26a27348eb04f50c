"""CORS on the wire: the bucket's configuration (Put/Get/DeleteBucketCors), a browser's
preflight (OPTIONS) answered from it, and the CORS headers of an allowed request."""

from __future__ import annotations

from typing import Any

from pocketcloud.api.call import Call, Params, Result
from pocketcloud.api.s3.common import registry
from pocketcloud.errors import ClientError
from pocketcloud.services.context import Cloud
from pocketcloud.services.s3 import cors as svc


def _rule(raw: dict[str, Any]) -> svc.Rule:
    return svc.Rule(
        tuple(raw.get("AllowedMethods") or ()), tuple(raw.get("AllowedOrigins") or ()),
        tuple(raw.get("AllowedHeaders") or ()), tuple(raw.get("ExposeHeaders") or ()),
        raw.get("MaxAgeSeconds"), raw.get("ID"),
    )  # fmt: skip


def _view(rule: svc.Rule) -> Result:
    out: Result = {"AllowedMethods": list(rule.methods), "AllowedOrigins": list(rule.origins)}
    if rule.headers:
        out["AllowedHeaders"] = list(rule.headers)
    if rule.expose:
        out["ExposeHeaders"] = list(rule.expose)
    if rule.max_age is not None:
        out["MaxAgeSeconds"] = rule.max_age
    if rule.rule_id:
        out["ID"] = rule.rule_id
    return out


@registry.op("PutBucketCors")
def put_bucket_cors(call: Call, p: Params) -> Result:
    raw = (p.get("CORSConfiguration") or {}).get("CORSRules") or []
    svc.put_rules(call.cloud, p["Bucket"], [_rule(item) for item in raw])
    return {}


@registry.op("GetBucketCors")
def get_bucket_cors(call: Call, p: Params) -> Result:
    return {"CORSRules": [_view(rule) for rule in svc.get_rules(call.cloud, p["Bucket"])]}


@registry.op("DeleteBucketCors")
def delete_bucket_cors(call: Call, p: Params) -> Result:
    svc.delete_rules(call.cloud, p["Bucket"])
    return {}


def _bucket(path: str) -> str:
    return path.lstrip("/").partition("/")[0]


def _requested(headers: dict[str, str]) -> list[str]:
    raw = headers.get("access-control-request-headers", "")
    return [name.strip().lower() for name in raw.split(",") if name.strip()]


def preflight(cloud: Cloud, path: str, headers: dict[str, str]) -> list[tuple[str, str]]:
    """The answer's headers to a browser's OPTIONS request (ClientError when no rule of
    the bucket admits it, as S3: 403 AccessForbidden)."""
    origin = headers.get("origin")
    method = headers.get("access-control-request-method")
    if not origin or not method:
        raise ClientError("BadRequest", "Insufficient information. Origin request header needed.")
    bucket = _bucket(path)
    rules = svc.rules_of(cloud, bucket) if bucket else None
    wanted = _requested(headers)
    rule = svc.match(rules or [], origin, method, wanted)
    if rule is None:
        raise ClientError(
            "AccessForbidden",
            "CORSResponse: This CORS request is not allowed. This is usually because the "
            "evalution of Origin, request method / Access-Control-Request-Method or "
            "Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.",
            status=403,
        )
    out = _allow(rule, origin)
    out.append(("Access-Control-Allow-Methods", ", ".join(rule.methods)))
    if wanted:
        out.append(("Access-Control-Allow-Headers", ", ".join(wanted)))
    if rule.max_age is not None:
        out.append(("Access-Control-Max-Age", str(rule.max_age)))
    return out


def response_headers(
    cloud: Cloud, method: str, path: str, headers: dict[str, str]
) -> list[tuple[str, str]]:
    """CORS headers for an answer to a request with an ``Origin`` a rule admits."""
    origin = headers.get("origin")
    bucket = _bucket(path)
    if not origin or not bucket:
        return []
    rule = svc.match(svc.rules_of(cloud, bucket) or [], origin, method, [])
    return [] if rule is None else _allow(rule, origin)


def _allow(rule: svc.Rule, origin: str) -> list[tuple[str, str]]:
    allowed = "*" if "*" in rule.origins else origin
    out = [("Access-Control-Allow-Origin", allowed), ("Vary", "Origin")]
    if rule.expose:
        out.append(("Access-Control-Expose-Headers", ", ".join(rule.expose)))
    return out
