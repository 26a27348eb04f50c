"""``pocketcloud explain <topic>`` (being built: see issue 12)."""

from __future__ import annotations

from pathlib import Path

import typer


def topic(words: list[str], lang: str | None, as_json: bool, root: Path) -> None:
    """Explain a topic with the user's own cloud."""
    typer.echo("explain topics are not built yet", err=True)
    raise typer.Exit(2)
