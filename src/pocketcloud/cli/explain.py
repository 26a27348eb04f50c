"""``pocketcloud explain``: the seed's questions answered against the live system.

``explain reach <instance-id|app> <port> [--from …] [--json]`` walks every layer a
connection crosses and names the first that blocks it; ``explain <topic>`` (port,
listening, "runserver 0:8080", security-group, key-pair, iam, instance, hosting) explains
with the user's own cloud. Understanding runs beside the cloud: it reads the state
directory and the rendered ruleset, and looks inside instances, without changing anything.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pocketcloud.config import state_dir

WordsArg = Annotated[
    list[str],
    typer.Argument(help="`reach <instance-id|app> <port>`, or a topic: port, listening, "
                   "'runserver 0:8080', security-group, key-pair, iam, instance, hosting"),
]  # fmt: skip


def register(app: typer.Typer) -> None:
    """Add ``explain`` to the CLI."""

    @app.command()
    def explain(
        words: WordsArg,
        source: Annotated[
            str | None,
            typer.Option(
                "--from", help="Where the connection starts: host (default), an instance id, a CIDR"
            ),
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="The same answer as data")] = False,
        lang: Annotated[
            str | None, typer.Option(help="ko or en (default: from the locale)")
        ] = None,
        state: Annotated[
            Path | None, typer.Option("--state-dir", help="The cloud's state directory")
        ] = None,
    ) -> None:
        """Answer a question about the live cloud: why can't I connect, what is a port, ..."""
        root = state_dir(state)
        if words and words[0] == "reach":
            from pocketcloud.cli.explain_reach import reach  # noqa: PLC0415

            reach(words[1:], source, as_json, root)
            return
        from pocketcloud.cli.explain_topics import topic  # noqa: PLC0415

        topic(words, lang, as_json, root)
