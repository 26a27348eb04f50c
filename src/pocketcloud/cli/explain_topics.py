"""``pocketcloud explain <topic>``: a topic explained with the user's own cloud.

Thin: the words become a question (:func:`pocketcloud.explain.topics.parse`), the live
facts are read (:func:`pocketcloud.explain.live.gather`, read-only), and the answer is
printed as text or JSON. Words that name no topic exit 2 with the known topics.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import typer

from pocketcloud.explain import live, topics
from pocketcloud.explain.texts import LANGS, default_lang, message


def topic(words: list[str], lang: str | None, as_json: bool, root: Path) -> None:
    """Explain a topic with the user's own cloud (reads the state directory, runs ss and
    nft listings; changes nothing)."""
    chosen = lang or default_lang(os.environ)
    if chosen not in LANGS:
        typer.echo(f"--lang {chosen}: use one of {', '.join(sorted(LANGS))}", err=True)
        raise typer.Exit(2)
    try:
        question = topics.parse(words)
    except topics.UnknownTopic as error:
        typer.echo(topics.unknown(chosen, str(error)), err=True)
        raise typer.Exit(2) from error
    except ValueError as error:
        typer.echo(message(chosen, "runserver.invalid", error=error), err=True)
        raise typer.Exit(2) from error
    try:
        facts = live.gather(root, topics.needs(question))
    except live.LiveError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(1) from error
    answer = topics.render(question, facts, chosen)
    if as_json:
        typer.echo(json.dumps(answer.to_json(), indent=2, ensure_ascii=False))
    else:
        typer.echo(answer.text(), nl=False)
