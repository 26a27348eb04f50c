"""``pocketcloud explain reach <instance-id|app|address> [port] [--from …] [--json]``.

The port defaults to the app's (80; 8080 for an app deployed with runserver)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from pocketcloud.config import Paths
from pocketcloud.store.reader import ReadError

USAGE = "usage: pocketcloud explain reach <instance-id|app> [port] [--from HOST|INSTANCE|CIDR]"


def reach(args: list[str], source: str | None, as_json: bool, root: Path) -> None:
    """Walk the layers a connection crosses; name the first that blocks it. Exit 0 when
    nothing blocks, 1 when a layer does, 2 on a usage error."""
    from pocketcloud.explain.reach import explain  # noqa: PLC0415
    from pocketcloud.explain.reach.gather import default_port  # noqa: PLC0415

    if len(args) not in (1, 2) or (len(args) == 2 and not args[1].isdigit()):
        typer.echo(USAGE, err=True)
        raise typer.Exit(2)
    if not Paths(root).database.exists():
        typer.echo(f"no cloud in {root} (pocketcloud init, or --state-dir)", err=True)
        raise typer.Exit(2)
    port = int(args[1]) if len(args) == 2 else default_port(args[0])
    try:
        report = explain(root, args[0], port, source)
    except ValueError as error:  # a --from that is no instance id, host or CIDR
        typer.echo(f"--from {source!r}: {error}", err=True)
        raise typer.Exit(2) from error
    except ReadError as error:
        typer.echo(f"cannot read the cloud's state in {root}: {error}", err=True)
        raise typer.Exit(2) from error
    if as_json:
        typer.echo(json.dumps(report.to_json(), indent=2))
    else:
        typer.echo(report.text())
    raise typer.Exit(0 if report.verdict.ok else 1)
