"""``pocketcloud deploy``, ``releases``, ``rollback``, ``logs``, ``app status``, ``destroy``.

Hosting commands: API clients of a cloud (boto3 with a profile) and OpenSSH/rsync users
of a server, never of this machine's cloud internals.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.status import Status
from rich.table import Table

from pocketcloud.deploy import apps, cloud, commands, deployer, pythons, validate
from pocketcloud.deploy import plan as plans
from pocketcloud.deploy.facts import ServerFacts
from pocketcloud.deploy.layout import Layout, LayoutError
from pocketcloud.deploy.project import ProjectError
from pocketcloud.deploy.source import SourceError
from pocketcloud.deploy.ssh import StepFailed
from pocketcloud.deploy.steps import Login, Plan

console = Console(soft_wrap=True, highlight=False)
app_cli = typer.Typer(help="A deployed app: its status.", no_args_is_help=True)
EXPECTED = (deployer.DeployError, cloud.CloudApiError, StepFailed, ProjectError, SourceError,
            apps.AppError, LayoutError, plans.PlanError, pythons.PythonError,
            ValueError)  # fmt: skip

AppOpt = Annotated[
    str | None,
    typer.Option("--app", help="App name (default: the project you are in, or the only app)"),
]


class _Progress:
    """A spinner under the running step's shell line, while it runs (Rich)."""

    def __init__(self) -> None:
        self.title = ""
        self.status: Status | None = None

    def start(self) -> None:
        if console.is_terminal and self.title:
            self.status = console.status(f"{self.title}…")
            self.status.start()

    def stop(self) -> None:
        if self.status is not None:
            self.status.stop()
            self.status = None


_progress = _Progress()


def echo(kind: str, text: str) -> None:
    """How a step shows: its title, the shell line it runs, its output, a warning."""
    _progress.stop()
    if kind == "step":
        _progress.title = text
        console.print(f"[bold]▸ {escape(text)}[/]")
    elif kind == "command":
        console.print(f"  [cyan]$ {escape(text)}[/]")
        _progress.start()
    elif kind == "output":
        for line in text.splitlines()[-40:]:
            console.print(f"    [dim]{escape(line)}[/]")
    elif kind == "took":
        _progress.title = ""
        console.print(f"    [dim]({text})[/]")
    elif kind == "warn":
        console.print(f"[yellow]{escape(text)}[/]")
    else:
        console.print(escape(text))


def fail(error: Exception) -> typer.Exit:
    """Print an expected failure as one red message, no traceback; exit code 1."""
    console.print(f"[red]{escape(str(error))}[/]")
    return typer.Exit(1)


def show_plan(the_plan: Plan, login: str) -> None:
    console.print("[bold]plan[/] (--dry-run: nothing was changed)")
    for line in the_plan.notes:
        console.print(f"  {escape(line)}")
    user, _, host = login.rpartition("@")
    who = Login(user or "admin", host)
    for number, step in enumerate(the_plan.steps, 1):
        console.print(f"{number:3}. {escape(step.title)}")
        console.print(f"     [cyan]$ {escape(step.shown(who))}[/]")


def _record(app: str | None) -> apps.AppRecord:
    """``--app``, else the project this command runs in, else the only app."""
    return apps.choose(app, Path.cwd())


def deploy(
    path: Annotated[Path, typer.Argument(help="The Django project's folder")] = Path("."),
    target: Annotated[
        str, typer.Option(help="pocketcloud, aws or ssh://user@host[:port]")
    ] = "pocketcloud",
    app: AppOpt = None,
    profile: Annotated[str | None, typer.Option(help="AWS profile (cloud targets)")] = None,
    region: Annotated[str | None, typer.Option(help="Region (cloud targets)")] = None,
    instance_type: Annotated[str, typer.Option(help="Instance type")] = "t3.micro",
    image_name: Annotated[str | None, typer.Option(help="Image name (pattern) to launch")] = None,
    image_owner: Annotated[str | None, typer.Option(help="Image owner (aws: Debian's)")] = None,
    key: Annotated[str | None, typer.Option("-i", "--key", help="ssh target: private key")] = None,
    ssh_from: Annotated[
        str | None, typer.Option(help="CIDR allowed to SSH (default: this machine)")
    ] = None,
    domain: Annotated[list[str] | None, typer.Option(help="A name the site answers to")] = None,
    bucket: Annotated[
        str | None,
        typer.Option(
            help="An S3 bucket for the app's uploaded media: made, with a role that may use "
            "only it, given to the instance (no access key on the server)"
        ),
    ] = None,
    runserver: Annotated[
        bool, typer.Option(help="The seed's runserver 0:8080 (development)")
    ] = False,
    python: Annotated[str, typer.Option(help="Python on the server for the venv")] = "python3",
    workers: Annotated[
        int | None, typer.Option(help="gunicorn workers (default: 2 x the server's cores + 1)")
    ] = None,
    keep: Annotated[int, typer.Option(help="Releases to keep")] = 5,
    force: Annotated[bool, typer.Option(help="Deploy even if nothing changed")] = False,
    dry_run: Annotated[bool, typer.Option(help="Print the plan, change nothing")] = False,
) -> None:
    """Deploy a Django project: provision, ship, venv, migrate, gunicorn behind nginx."""
    try:  # before anything is contacted
        valid = validate.check_options(
            target=target, app=app, python=python, ssh_from=ssh_from, domains=domain,
            workers=workers, keep=keep, bucket=bucket,
        )  # fmt: skip
    except validate.InvalidOption as error:
        console.print(f"[red]{escape(str(error))}[/]")
        raise typer.Exit(2) from error
    opts = deployer.Options(
        profile=profile, region=region, instance_type=instance_type, image_name=image_name,
        image_owner=image_owner, key=key, runserver=runserver, force=force, dry_run=dry_run,
        **valid,
    )  # fmt: skip
    try:
        record, the_plan = deployer.deploy(path.resolve(), opts, echo)
    except EXPECTED as error:
        raise fail(error) from error
    if dry_run:
        show_plan(the_plan, f"{record.user}@{record.host}" if record else "admin@<new instance>")
        return
    if record is not None:
        show_site(record)


def show_site(record: apps.AppRecord) -> None:
    port = ":8080" if record.mode == "runserver" else ""
    host = f" -H 'Host: {record.names[0]}'" if record.names[0] != record.host else ""
    curl = f"curl{host} http://{record.host}{port}/"
    try:
        status, body = deployer.fetch(record)
    except OSError as error:
        console.print(
            f"\n[yellow]{record.app} answers on its server, but not from this machine "
            f"({escape(str(error))}): does its security group admit port {port[1:] or 80}?[/]"
            f"\n  [cyan]$ {escape(curl)}[/]"
        )
        return
    label = (
        " (Django's development server: not for production)" if record.mode == "runserver" else ""
    )
    console.print(f"\n[bold green]{record.app}[/] is served at [bold]{record.url}[/]{label}")
    console.print(f"  [cyan]$ {escape(curl)}[/]  → HTTP {status}")
    text = " ".join(body.split())
    console.print(f"    [dim]{escape(text[:300])}[/]")
    login = Login(record.user, record.host, record.port, record.key)
    console.print(f"  log in: [bold]{escape(login.shown())}[/]")


def _look(app: str | None) -> tuple[apps.AppRecord, ServerFacts]:
    """The app's record and what its server holds (runs the probe over ssh)."""
    try:
        record = _record(app)
        runner = deployer.connect(record, lambda kind, text: None)
        try:
            return record, deployer.probe(runner, Layout(record.app))
        finally:
            runner.close()
    except EXPECTED as error:
        raise fail(error) from error


def releases(app: AppOpt = None) -> None:
    """The app's releases on its server; the one serving is marked."""
    _, facts = _look(app)
    table = Table("", "RELEASE", "CREATED", "MODE", "REQUIREMENTS", box=None)
    for rel in facts.releases:
        mark = "→" if rel.release_id == facts.current else ""
        table.add_row(mark, rel.release_id, rel.created, rel.mode, rel.requirements)
    console.print(table)


def rollback(
    release: Annotated[
        str | None, typer.Argument(help="Release id (default: the previous)")
    ] = None,
    app: AppOpt = None,
) -> None:
    """Serve an earlier release again, without rebuilding it."""
    try:
        record = _record(app)
        runner = deployer.connect(record, echo)
        try:
            with deployer.locked(runner, Layout(record.app)):
                facts = deployer.probe(runner, Layout(record.app))
                the_plan = plans.rollback(Layout(record.app), facts, release, tuple(record.names))
                runner.run_plan(the_plan)
        finally:
            runner.close()
    except EXPECTED as error:
        raise fail(error) from error
    show_site(record)


def logs(
    app: AppOpt = None,
    follow: Annotated[bool, typer.Option("-f", "--follow", help="Keep printing")] = False,
    lines: Annotated[int, typer.Option("-n", help="Lines from each log")] = 30,
) -> None:
    """gunicorn's and nginx's logs of the app (tail over ssh; journalctl under systemd)."""
    try:
        record = _record(app)
    except EXPECTED as error:
        raise fail(error) from error
    try:
        runner = deployer.connect(record, lambda kind, text: None)
        facts = deployer.probe(runner, Layout(record.app))
    except EXPECTED as error:
        raise fail(error) from error
    command = commands.logs(Layout(record.app), facts, record.mode, lines, follow)
    login = Login(record.user, record.host, record.port, record.key)
    echo("command", f"{login.shown()} {shlex.quote(command)}")
    try:
        runner.stream(command)
    except KeyboardInterrupt:  # the way out of -f
        pass
    finally:
        runner.close()


@app_cli.command("status")
def status(app: AppOpt = None) -> None:
    """Where the app runs, its URL, the release serving and whether it answers."""
    record, facts = _look(app)
    try:
        code, _body = deployer.fetch(record, "/healthz", timeout=5)
        health = f"HTTP {code} on /healthz" + (" (healthy)" if code == 200 else "")
    except OSError as error:
        health = f"no answer: {error}"
    where = record.instance_id or record.target
    console.print(f"app       [bold]{record.app}[/] ({record.mode})")
    console.print(
        f"server    {where} {record.user}@{record.host} ({record.target}, {facts.hostname})"
    )
    console.print(f"url       {record.url}")
    console.print(f"release   {facts.current or 'none'} of {len(facts.releases)}")
    for name, state in sorted(facts.services.items()):
        if Layout(record.app).owns(name) or name == "nginx":
            since = f", restarted {state.get('restarts', 0)} times" if state.get("restarts") else ""
            console.print(f"process   {name}: {state.get('state')} (pid {state.get('pid')}{since})")
    console.print(f"health    {health}")


def destroy(
    app: AppOpt = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask")] = False,
) -> None:
    """Remove what deploy made (asks first): instance, group, key pair; or, for an ssh
    target, the app's services, nginx site and folder."""
    try:
        record = _record(app)
    except EXPECTED as error:
        raise fail(error) from error
    what = record.instance_id or f"{record.user}@{record.host}:/srv/app/{record.app}"
    if not yes and not typer.confirm(f"remove app {record.app} ({what})?"):
        raise typer.Exit(1)
    try:
        if record.target in ("pocketcloud", "aws"):
            where = cloud.target(record.target, record.profile, record.region)
            cloud.CloudApi(where, record.app, echo).destroy(deployer.pem_path(record.app))
        else:
            deployer.remove_from_server(record, echo)
    except EXPECTED as error:
        raise fail(error) from error
    apps.forget(record.app)
    console.print(f"removed app {record.app}")


def register(app: typer.Typer) -> None:
    """Add the hosting commands to the ``pocketcloud`` command."""
    app.command()(deploy)
    app.command()(releases)
    app.command()(rollback)
    app.command()(logs)
    app.command()(destroy)
    app.add_typer(app_cli, name="app")
