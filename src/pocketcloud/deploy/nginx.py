"""nginx configuration for an app (pure), as the gunicorn and Django deployment docs put it.

One server block per app, chosen by name; a ``default_server`` that closes the
connection for any other Host (so a request for an unknown name never reaches Django);
static files from disk; gunicorn on a unix socket with ``fail_timeout=0``.
"""

from __future__ import annotations

from pocketcloud.deploy.layout import NGINX_AVAILABLE, NGINX_ENABLED, Layout

DEFAULT_SITE = NGINX_AVAILABLE / "pocketcloud-default.conf"
DEFAULT_LINK = NGINX_ENABLED / "pocketcloud-default.conf"
DEFAULT_SERVER = """\
# Written by pocketcloud deploy: requests for a name no app serves are refused
# (444 closes the connection without an answer), as Django's ALLOWED_HOSTS advice says.
server {
    listen 80 default_server;
    listen [::]:80 default_server;
    server_name _;
    return 444;
}
"""


def site(layout: Layout, release_id: str, names: tuple[str, ...], body_size: str = "10m") -> str:
    """The app's server block, proxying to ``release_id``'s gunicorn socket."""
    upstream = f"pocketcloud_{layout.app.replace('-', '_')}"
    return f"""\
# Written by pocketcloud deploy for app {layout.app}: release {release_id}
upstream {upstream} {{
    server unix:{layout.socket(release_id)} fail_timeout=0;
}}

server {{
    listen 80;
    listen [::]:80;
    server_name {" ".join(names)};

    # which release answered: the deploy waits for it after a reload (workers change over
    # asynchronously), and a reader can see it with curl -I
    add_header X-Pocketcloud-Release {release_id} always;
    client_max_body_size {body_size};
    keepalive_timeout 5;
    access_log {layout.nginx_log}.access.log combined buffer=32k flush=1s;
    error_log {layout.nginx_log}.error.log;

    location /static/ {{
        alias {layout.static(release_id)}/;
        expires 1h;
    }}

    location / {{
        proxy_set_header Host $host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_redirect off;
        proxy_connect_timeout 5s;
        proxy_send_timeout 60s;
        proxy_read_timeout 60s;
        proxy_pass http://{upstream};
    }}
}}
"""
