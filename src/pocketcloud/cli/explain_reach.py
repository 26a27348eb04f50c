"""``pocketcloud explain reach`` (being built: see issue 12)."""

from __future__ import annotations

from pathlib import Path

import typer


def reach(args: list[str], source: str | None, as_json: bool, root: Path) -> None:
    """Walk the layers a connection crosses; name the first that blocks it."""
    typer.echo("explain reach is not built yet", err=True)
    raise typer.Exit(2)
