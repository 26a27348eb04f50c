"""``pocketcloud console``: where the web console is (it prints the URL; opens nothing)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pocketcloud.config import Paths, load_settings, state_dir

PATH = "/console/"


def console_url(paths: Paths) -> str:
    """The console's URL for the cloud in ``paths`` (reads its config file)."""
    return load_settings(paths).endpoint + PATH


def register(app: typer.Typer) -> None:
    """Add ``console`` to the CLI."""

    @app.command("console")
    def console(
        state: Annotated[
            Path | None, typer.Option("--state-dir", help="The cloud's state directory")
        ] = None,
    ) -> None:
        """Print the web console's URL: sign in there with an access key (the same
        credentials as the AWS CLI's profile); IAM decides what it shows."""
        from pocketcloud.host.daemon import answers  # noqa: PLC0415 (keeps --help fast)

        paths = Paths(state_dir(state))
        if not paths.database.exists():
            typer.echo(f"no pocketcloud in {paths.root}; run `pocketcloud init` first", err=True)
            raise typer.Exit(1)
        settings = load_settings(paths)
        typer.echo(console_url(paths))
        if not answers(settings.host, settings.port):
            typer.echo("pocketcloud is not running: start it with `pocketcloud up`", err=True)
