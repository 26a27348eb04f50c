"""The console's ASGI app (Starlette), mounted by the API at ``/console``.

Pages: ``/console/`` (instances, security groups with their rules, key pairs, IAM
users), ``/console/apps`` (deployed apps: URL, serving release, ``explain reach``
verdict), ``/console/signin`` and ``/console/signout`` (POST). Every page but sign-in
needs a session; every list is fetched as the signed-in principal (``sections.fetch``).
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from pocketcloud.api.console import apps as app_views
from pocketcloud.api.console.sections import SECTIONS, denial, fetch, rule_rows, tag
from pocketcloud.api.console.sessions import (
    LIFETIME,
    Sessions,
    Throttle,
    check_key,
    current_principal,
)
from pocketcloud.errors import ClientError
from pocketcloud.services.context import Cloud
from pocketcloud.services.iam.principals import Principal

HERE = Path(__file__).parent
PREFIX = "/console"
COOKIE = "pocketcloud_console"
#: what a viewer must be allowed to see an app's reach verdict (it quotes group rules)
VERDICT_NEEDS = "ec2:DescribeSecurityGroups"
#: no script, no frame, nothing from elsewhere (water.css draws its arrows with data: URIs)
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


class Console:
    """The page handlers, over one cloud and its open sessions."""

    def __init__(self, cloud: Cloud, sessions: Sessions, throttle: Throttle) -> None:
        self.cloud = cloud
        self.sessions = sessions
        self.throttle = throttle
        self.templates = Jinja2Templates(directory=HERE / "templates")
        self.templates.env.trim_blocks = self.templates.env.lstrip_blocks = True
        self.templates.env.globals.update(prefix=PREFIX, rule_rows=rule_rows, tag=tag)

    def page(self, request: Request, name: str, status: int = 200, **context: Any) -> Response:
        """A rendered template with the console's security headers."""
        response = self.templates.TemplateResponse(request, name, context, status_code=status)
        response.headers.update(SECURITY_HEADERS)
        return response

    def principal(self, request: Request) -> Principal | None:
        """Who is signed in on this request (None: no session, or its key is gone)."""
        sid = request.session.get("sid")
        key = self.sessions.key_of(sid) if isinstance(sid, str) else None
        principal = current_principal(self.cloud, key) if key else None
        if principal is None and isinstance(sid, str):
            self.sessions.close(sid)
        return principal

    async def overview(self, request: Request) -> Response:
        """Instances, security groups, key pairs and users, as the principal sees them."""
        principal = self.principal(request)
        if principal is None:
            return _to_signin()
        source = _client_ip(request)
        sections = {name: fetch(self.cloud, principal, name, source) for name in SECTIONS}
        return self.page(request, "overview.html", principal=principal, sections=sections)

    async def apps(self, request: Request) -> Response:
        """Deployed apps with their URL, serving release and port 80's reach verdict."""
        principal = self.principal(request)
        if principal is None:
            return _to_signin()
        source = _client_ip(request)
        instances = fetch(self.cloud, principal, "instances", source)
        found = app_views.apps_of(instances.items)
        # the verdict shows the instance's group rules: only to who may describe them
        denied = denial(self.cloud, principal, VERDICT_NEEDS, source)
        withheld = f"the verdict needs {VERDICT_NEEDS} ({denied.code})" if denied else ""
        looked = await run_in_threadpool(
            app_views.look_at_all, found, self.cloud.paths.root, withheld
        )
        return self.page(
            request, "apps.html", principal=principal, instances=instances, apps=looked
        )

    async def signin_form(self, request: Request) -> Response:
        """The sign-in form (or the overview, when already signed in)."""
        if self.principal(request) is not None:
            return RedirectResponse(f"{PREFIX}/", status_code=303)
        return self.page(request, "signin.html", principal=None, error=None, key_id="")

    async def signin(self, request: Request) -> Response:
        """Check the access key and secret as the API does; open a session."""
        form = await request.form()
        key_id, secret = str(form.get("access_key_id", "")), str(form.get("secret", ""))
        who = _client_ip(request)
        try:
            self.throttle.check(who)
            principal = check_key(self.cloud, key_id, secret)
        except ClientError as error:
            if error.code == "AuthFailure":
                self.throttle.failed(who)
            return self.page(
                request, "signin.html", error.status, principal=None, error=error, key_id=key_id
            )
        old = request.session.get("sid")
        if isinstance(old, str):
            self.sessions.close(old)
        request.session.clear()
        request.session["sid"] = self.sessions.open(principal.access_key_id)
        return RedirectResponse(f"{PREFIX}/", status_code=303)

    async def signout(self, request: Request) -> Response:
        """End the session on the server and drop the cookie."""
        sid = request.session.get("sid")
        if isinstance(sid, str):
            self.sessions.close(sid)
        request.session.clear()
        return _to_signin()


def _to_signin() -> Response:
    return RedirectResponse(f"{PREFIX}/signin", status_code=303)


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else "127.0.0.1"


def make_console(cloud: Cloud) -> Starlette:
    """The console app for ``cloud``; its cookie is signed with a key made at start-up
    (a restart of the server signs everyone out)."""
    console = Console(cloud, Sessions(), Throttle())
    routes = [
        Route("/", console.overview, name="overview"),
        Route("/apps", console.apps, name="apps"),
        Route("/signin", console.signin_form, methods=["GET"], name="signin"),
        Route("/signin", console.signin, methods=["POST"]),
        Route("/signout", console.signout, methods=["POST"], name="signout"),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    session = Middleware(
        SessionMiddleware,
        secret_key=secrets.token_urlsafe(32),
        session_cookie=COOKIE,
        max_age=LIFETIME,
        path=PREFIX,
        same_site="strict",
    )
    return Starlette(routes=[Mount(PREFIX, routes=routes)], middleware=[session])
