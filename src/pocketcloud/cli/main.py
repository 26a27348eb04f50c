"""``pocketcloud``: set up, run and stop a cloud.

Only these commands touch the state directory directly; everything a user does
*in* the cloud goes through the API, like the AWS CLI.
"""

from __future__ import annotations

import errno
import gc
import ipaddress
import logging
import os
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from pocketcloud.cli import console as console_cli
from pocketcloud.cli import deploy as deploy_cli
from pocketcloud.cli import django as django_cli
from pocketcloud.cli import doctor as doctor_cli
from pocketcloud.cli import explain as explain_cli
from pocketcloud.cli import image as image_cli
from pocketcloud.config import Paths, Settings, load_settings, state_dir
from pocketcloud.errors import CloudError
from pocketcloud.host import daemon
from pocketcloud.host.images import ImageError
from pocketcloud.host.run import HostError

app = typer.Typer(
    help="An EC2-compatible cloud on one Linux machine.", no_args_is_help=True, add_completion=False
)
console = Console(soft_wrap=True)
app.add_typer(image_cli.app, name="image")
app.add_typer(django_cli.app, name="django")
deploy_cli.register(app)
explain_cli.register(app)
doctor_cli.register(app)
console_cli.register(app)
DEBUG_ENV = "POCKETCLOUD_DEBUG"
StateDir = Annotated[
    Path | None,
    typer.Option(
        "--state-dir", help="State directory (default $POCKETCLOUD_HOME or /var/lib/pocketcloud)"
    ),
]


def _paths(explicit: Path | None) -> Paths:
    return Paths(state_dir(explicit))


@app.callback()
def _options(
    debug: Annotated[
        bool, typer.Option("--debug", help=f"Show the traceback of a failure (or {DEBUG_ENV}=1)")
    ] = False,
) -> None:
    """An EC2-compatible cloud on one Linux machine."""
    if debug:
        os.environ[DEBUG_ENV] = "1"  # the server `up` spawns inherits it


@app.command()
def init(
    state: StateDir = None,
    port: Annotated[int | None, typer.Option(help="API port")] = None,
    imds_port: Annotated[int | None, typer.Option(help="Metadata service port")] = None,
    region: Annotated[str | None, typer.Option(help="Region name")] = None,
    vpc_cidr: Annotated[str | None, typer.Option(help="CIDR of the default VPC")] = None,
    prefix: Annotated[
        str | None, typer.Option(help="Prefix of every host object (1-6 lowercase letters/digits)")
    ] = None,
    nat: Annotated[
        bool, typer.Option(help="Outbound NAT: instances reach what the host reaches")
    ] = True,
    profile: Annotated[str, typer.Option(help="AWS CLI profile to write")] = "pocketcloud",
    eip_pool: Annotated[
        str | None, typer.Option(help="IPv4 CIDR Elastic IPs come from (default 198.18.0.0/24)")
    ] = None,
) -> None:
    """Create the state directory, the account, the admin user and an AWS CLI profile."""
    from pocketcloud.cli.awsprofile import write_profile  # noqa: PLC0415 (keeps --help fast)
    from pocketcloud.services.account import initialize  # noqa: PLC0415

    paths = _paths(state)
    if prefix is not None and not (
        prefix.isascii() and prefix.isalnum() and prefix.islower() and 1 <= len(prefix) <= 6
    ):
        console.print("[red]--prefix must be 1-6 lowercase letters or digits[/]")
        raise typer.Exit(2)
    if eip_pool is not None and not _ipv4_network(eip_pool):
        console.print("[red]--eip-pool must be an IPv4 network such as 198.18.0.0/24[/]")
        raise typer.Exit(2)
    settings = Settings().with_overrides(
        port=port,
        imds_port=imds_port or (port + 1 if port else None),
        region=region,
        vpc_cidr=vpc_cidr,
        prefix=prefix,
        nat=nat,
        eip_pool=eip_pool,
    )
    cloud, credentials = initialize(paths.root, settings)
    if credentials is None:
        console.print(
            f"pocketcloud already initialized in {paths.root} (account {cloud.account_id})"
        )
        return
    write_profile(
        profile,
        credentials.access_key_id,
        credentials.secret_access_key,
        cloud.settings.region,
        cloud.settings.endpoint,
    )
    console.print(f"initialized pocketcloud in [bold]{paths.root}[/]")
    console.print(f"  account     {cloud.account_id}")
    console.print(f"  admin user  {credentials.user_name} ({credentials.access_key_id})")
    console.print(f"  endpoint    {cloud.settings.endpoint}")
    console.print(f"  AWS profile [bold]{profile}[/] written to ~/.aws/config and credentials")


def _ipv4_network(text: str) -> bool:
    """Whether ``text`` is an IPv4 network in CIDR form (host bits zero)."""
    try:
        ipaddress.IPv4Network(text)
    except ValueError:
        return False
    return "/" in text


def _api_sockets(host: str, port: int, gateway: str) -> list[socket.socket]:
    """The API's sockets: the configured address, and the instances' gateway so that
    instances reach the API as EC2 instances reach AWS's endpoints (through their
    egress rules)."""
    sockets = [daemon.listener(host, port)]
    if host not in ("0.0.0.0", gateway):  # noqa: S104 (a comparison, not a bind)
        sockets.append(daemon.listener(gateway, port, freebind=True))
    return sockets


@app.command()
def serve(
    state: StateDir = None,
    port: Annotated[int | None, typer.Option(help="Override the configured port")] = None,
) -> None:
    """Run the control plane in the foreground."""
    import uvicorn  # noqa: PLC0415

    from pocketcloud.api.app import Api  # noqa: PLC0415
    from pocketcloud.api.ec2.metadata import MetadataServer  # noqa: PLC0415
    from pocketcloud.api.http import ApiHttp  # noqa: PLC0415
    from pocketcloud.host.network import GATEWAY  # noqa: PLC0415
    from pocketcloud.reconcile.loop import Reconciler, teardown  # noqa: PLC0415
    from pocketcloud.services.account import open_cloud  # noqa: PLC0415

    paths = _paths(state)
    running = daemon.read_pid(paths.pidfile)
    if running is not None and running != os.getpid():
        console.print(f"[red]pocketcloud is already running for {paths.root} (pid {running})[/]")
        raise typer.Exit(1)
    if not paths.database.exists():
        console.print(f"[red]no pocketcloud in {paths.root}; run `pocketcloud init` first[/]")
        raise typer.Exit(1)
    doctor_cli.preflight(paths.root, console)
    cloud = open_cloud(paths.root)
    if port is not None:
        cloud.settings = cloud.settings.with_overrides(port=port)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    daemon.write_pid(paths.pidfile)
    reconciler = Reconciler(cloud)
    reconciler.start()
    metadata = MetadataServer(cloud)
    api = Api(
        cloud,
        on_startup=[lambda: metadata.serve(GATEWAY, cloud.settings.imds_port)],
        on_shutdown=[
            reconciler.close,
            lambda: teardown(cloud),
            lambda: daemon.remove_pid(paths.pidfile),
        ],
    )
    config = uvicorn.Config(
        api,
        http=ApiHttp,
        # no proxy sits in front: X-Forwarded-For from 127.0.0.1 must not become the
        # client's address (IAM's aws:SourceIp reads it)
        proxy_headers=False,
        log_level="warning",
        access_log=False,
        lifespan="on",
    )
    server = uvicorn.Server(config)
    api.warm()
    # what start-up loaded (botocore models, codecs) lives as long as the server: keep it
    # out of the collector's full passes, which otherwise walk it every few hundred requests
    gc.freeze()
    try:
        server.run(sockets=_api_sockets(cloud.settings.host, cloud.settings.port, GATEWAY))
    finally:  # not reached on SIGTERM (see Api._lifespan); the pidfile check copes
        daemon.remove_pid(paths.pidfile)
        cloud.store.close()


@app.command()
def up(state: StateDir = None) -> None:
    """Start the control plane in the background; returns when the API answers."""
    paths = _paths(state)
    if not paths.database.exists():
        console.print(f"[red]no pocketcloud in {paths.root}; run `pocketcloud init` first[/]")
        raise typer.Exit(1)
    settings = load_settings(paths)
    alive = daemon.liveness(paths.pidfile)
    if alive.running:
        answering = daemon.answers(settings.host, settings.port)
        note = "" if answering else f", but it does not answer; see {paths.logfile}"
        endpoint = f"{settings.endpoint}{note}"
        console.print(f"pocketcloud is already running (pid {alive.pid}) at {endpoint}")
        return
    if alive.pid is not None:
        console.print(f"the last server is gone ({alive.reason}); starting a new one")
    doctor_cli.preflight(paths.root, console)
    try:
        pid = daemon.spawn(paths.root, paths.logfile, settings.host, settings.port)
    except daemon.DaemonError as error:
        console.print(f"[red]{error}[/]")
        raise typer.Exit(1) from error
    console.print(f"pocketcloud is up (pid {pid}) at {settings.endpoint}; log: {paths.logfile}")


@app.command()
def down(state: StateDir = None) -> None:
    """Stop the control plane; the state directory keeps every record."""
    paths = _paths(state)
    from pocketcloud.reconcile.loop import teardown  # noqa: PLC0415
    from pocketcloud.services.account import open_cloud  # noqa: PLC0415

    alive = daemon.liveness(paths.pidfile)
    pid = alive.running_pid
    if pid is None:
        gone = f" (the last server is gone: {alive.reason})" if alive.pid is not None else ""
        console.print(f"pocketcloud is not running{gone}")
        paths.pidfile.unlink(missing_ok=True)  # stale: its process died without removing it
    else:
        daemon.stop(pid, grace=60)
        console.print(f"pocketcloud stopped (pid {pid})")
    if paths.database.exists():
        cloud = open_cloud(paths.root)
        removed = teardown(cloud)
        cloud.store.close()
        if removed:
            console.print(f"removed {len(removed)} host objects of this cloud")


@app.command()
def status(state: StateDir = None) -> None:
    """Whether the control plane runs and answers."""
    paths = _paths(state)
    if not paths.database.exists():
        console.print(f"no pocketcloud in {paths.root}")
        raise typer.Exit(1)
    settings = load_settings(paths)
    alive = daemon.liveness(paths.pidfile)
    pid = alive.running_pid
    if pid is None:
        gone = f"; the last server is gone ({alive.reason})" if alive.pid is not None else ""
        console.print(f"pocketcloud is stopped (state in {paths.root}){gone}")
        raise typer.Exit(3)
    answering = daemon.answers(settings.host, settings.port)
    state_text = "running" if answering else "running but not answering"
    console.print(f"pocketcloud is {state_text} (pid {pid}) at {settings.endpoint}")
    console.print(f"  state directory {paths.root}")
    if not answering:
        raise typer.Exit(1)


@app.command()
def quickstart(
    profile: Annotated[str, typer.Option(help="AWS CLI profile to use")] = "pocketcloud",
    key_file: Annotated[Path | None, typer.Option(help="Where to save the private key")] = None,
) -> None:
    """The first steps on a new cloud: an instance to log in to, its security group at
    work, then the main job: a Django site scaffolded, deployed behind nginx, changed and
    deployed again."""
    from pocketcloud.cli import quickstart as qs  # noqa: PLC0415

    pem = key_file or Path.home() / ".ssh" / f"pocketcloud-{qs.KEY_NAME}.pem"
    qs.run(profile, pem, console)


def main() -> None:
    """Entry point of the ``pocketcloud`` console script.

    An expected failure (a missing host tool, a failed host command, an AWS error, a
    cloud that does not answer) ends as one red line and exit code 1; ``--debug`` or
    ``POCKETCLOUD_DEBUG=1`` shows its traceback instead.
    """
    try:
        app(prog_name="pocketcloud")
    except KeyboardInterrupt:
        Console(stderr=True).print("[red]interrupted[/]")
        sys.exit(130)
    except Exception as error:
        message = expected_failure(error)
        if message is None or os.environ.get(DEBUG_ENV, "") not in ("", "0"):
            raise
        Console(stderr=True, soft_wrap=True).print(f"[red]{escape(message)}[/]")
        sys.exit(1)


def expected_failure(error: Exception) -> str | None:
    """The one line that explains an expected failure, None for anything else (a bug)."""
    for explain in (_tool_failure, _local_failure, _command_failure, _aws_failure):
        if (line := explain(error)) is not None:
            return line
    return None


def _tool_failure(error: Exception) -> str | None:
    """A host tool missing from the PATH (exec'd directly or through host.run)."""
    cause = error.__cause__ if isinstance(error, HostError) else error
    if isinstance(cause, FileNotFoundError) and _missing_tool(cause):
        return f"{cause.filename} not found on the PATH: {doctor_cli.install_hint(cause.filename)}"
    return None


def _local_failure(error: Exception) -> str | None:
    """The cloud's own errors, host commands, files and the state database."""
    hint = " (--debug shows the traceback)"
    if isinstance(error, CloudError):
        return f"{error.code}: {error.message}"
    if isinstance(error, PermissionError) and os.geteuid() != 0:
        return f"{error}: pocketcloud needs root (sudo pocketcloud …)"
    if isinstance(error, HostError | daemon.DaemonError | ImageError | OSError):
        return f"{error}{hint}"
    if isinstance(error, sqlite3.Error):
        return f"the state database: {error}{hint}"
    return None


def _command_failure(error: Exception) -> str | None:
    """A command the CLI ran itself that failed or hung: the command, its last stderr line."""
    if not isinstance(error, subprocess.CalledProcessError | subprocess.TimeoutExpired):
        return None
    cmd = error.cmd if isinstance(error.cmd, str) else " ".join(map(str, error.cmd))
    if isinstance(error, subprocess.TimeoutExpired):
        return f"`{cmd}` did not finish within {error.timeout:.0f} s"
    stderr = error.stderr
    text = stderr.decode("utf-8", "replace") if isinstance(stderr, bytes) else stderr or ""
    lines = text.strip().splitlines()
    return f"`{cmd}` exited with {error.returncode}" + (f": {lines[-1]}" if lines else "")


def _missing_tool(error: FileNotFoundError) -> bool:
    """An exec of a bare command name that is not on the PATH."""
    name = error.filename
    return error.errno == errno.ENOENT and isinstance(name, str) and "/" not in name


def _aws_failure(error: Exception) -> str | None:
    """botocore's errors of the API-client commands (only if botocore was ever imported)."""
    botocore = sys.modules.get("botocore.exceptions")
    if botocore is None:
        return None
    if isinstance(error, botocore.EndpointConnectionError):
        return f"{error}: is the cloud running? `pocketcloud status` tells"
    if isinstance(error, botocore.NoCredentialsError | botocore.ProfileNotFound):
        return f"{error}: `pocketcloud init` writes the pocketcloud profile"
    if isinstance(error, botocore.BotoCoreError | botocore.ClientError):
        return str(error)
    return None


if __name__ == "__main__":
    main()
