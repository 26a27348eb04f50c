"""``pocketcloud explain <topic>``: a topic explained with the user's own cloud.

Thin: the words become a question (:func:`pocketcloud.explain.topics.registry.parse`), the
live facts are read (:func:`pocketcloud.explain.topics.gather.gather`, read-only), and the
explanation is printed as text or JSON. Words that name no topic exit 2 with the known topics.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import typer

from pocketcloud.explain.topics import registry
from pocketcloud.explain.topics.gather import gather
from pocketcloud.explain.topics.texts import LANGS, default_lang, message
from pocketcloud.store.reader import ReadError


def topic(words: list[str], lang: str | None, as_json: bool, root: Path) -> None:
    """Explain a topic with the user's own cloud (reads the state directory, runs ss and
    nft listings; changes nothing)."""
    chosen = lang or default_lang(os.environ)
    if chosen not in LANGS:
        typer.echo(f"--lang {chosen}: use one of {', '.join(sorted(LANGS))}", err=True)
        raise typer.Exit(2)
    try:
        question = registry.parse(words)
    except registry.UnknownTopic as error:
        typer.echo(registry.unknown(chosen, str(error)), err=True)
        raise typer.Exit(2) from error
    except ValueError as error:
        typer.echo(message(chosen, "runserver.invalid", error=error), err=True)
        raise typer.Exit(2) from error
    try:
        facts = gather(root, registry.needs(question))
    except ReadError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(1) from error
    explanation = registry.render(question, facts, chosen)
    if as_json:
        typer.echo(json.dumps(explanation.to_json(), indent=2, ensure_ascii=False))
    else:
        typer.echo(explanation.text(), nl=False)
