"""``pocketcloud django``: Django projects made the way the seed makes them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from pocketcloud.deploy import scaffold

app = typer.Typer(help="Django projects to host on pocketcloud.", no_args_is_help=True)
console = Console(soft_wrap=True, highlight=False)


def _echo(line: str) -> None:
    style = "bold" if line.startswith("$ ") else "dim"
    console.print(line, style=style, markup=False)


@app.command()
def new(
    name: Annotated[str, typer.Argument(help="Project name, a Python identifier (e.g. mysite)")],
    directory: Annotated[
        Path, typer.Option("--dir", help="Folder to make the project in (default: here)")
    ] = Path(),
    python: Annotated[
        str, typer.Option("--python", help="Python that makes the virtualenv")
    ] = "python3",
) -> None:
    """Make the Django project DIR/NAME the way the seed does, showing each command.

    A virtualenv with Django and gunicorn, startproject's folder renamed to django_app,
    settings read from .conf/*.json, requirements.txt and a first git commit.
    """
    try:
        root = scaffold.new_project(name, directory, python=python, echo=_echo)
    except scaffold.ScaffoldError as error:
        console.print(f"[red]{escape(str(error))}[/]")
        raise typer.Exit(1) from error
    console.print(f"\n[green]Django project {escape(name)} is ready in {escape(str(root))}[/]")
    console.print("Try it (mark django_app as the source root in your IDE):", markup=False)
    console.print(f"  cd {root}", markup=False)
    console.print("  .venv/bin/python django_app/manage.py migrate", markup=False)
    console.print("  .venv/bin/python django_app/manage.py runserver", markup=False)
