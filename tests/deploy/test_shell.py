"""The one quoting function and the commands built with it: whatever text a value holds,
the shell reads it back as exactly one word (hypothesis), so no value can end a command or
start another."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import PurePosixPath

from hypothesis import given, settings
from hypothesis import strategies as st

from pocketcloud.deploy import commands as cmd
from pocketcloud.deploy import shell as sh
from pocketcloud.deploy.layout import Layout

#: any text a value could hold, NUL and lone surrogates aside (no argv or file name can
#: carry a NUL, and a lone surrogate is not text: it cannot be encoded to pass as one)
TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1)
LAYOUT = Layout("shop")


@given(st.lists(TEXT, min_size=1, max_size=6))
def test_words_split_back_to_the_argument_list(args: list[str]) -> None:
    """``shlex.split(words(*args)) == args`` for any text."""
    assert shlex.split(sh.words(*args)) == args


@settings(max_examples=30, deadline=None)
@given(st.lists(TEXT, min_size=1, max_size=3))
def test_a_real_shell_passes_each_word_through(args: list[str]) -> None:
    """sh itself (dash), given ``printf '%s\\0' <words>``, prints exactly the words: the
    parse that matters is the server's shell, not only Python's."""
    line = sh.words("printf", "%s\\0", *args)
    done = subprocess.run(["sh", "-c", line], capture_output=True, check=True)
    assert done.stdout.split(b"\0")[:-1] == [a.encode() for a in args]


@given(TEXT, TEXT)
def test_health_checks_keep_their_values_whole(socket: str, host: str) -> None:
    """The socket path and the Host name come back as the script's arguments."""
    line = cmd.health_socket(PurePosixPath("/run") / socket.replace("/", "_"), host)
    assert shlex.split(line) == [
        "sh", "-s", "--", "socket", f"/run/{socket.replace('/', '_')}", host, "/healthz", "/",
    ]  # fmt: skip
    assert shlex.split(cmd.check_site(host)) == ["sh", "-s", "--", "site", host]
    assert shlex.split(cmd.check_nginx(host, "R1", tries=3)) == [
        "sh", "-s", "--", "release", host, "R1", "3",
    ]  # fmt: skip


@given(TEXT)
def test_lock_holder_is_one_word(holder: str) -> None:
    """The lock's holder text (host name, pid, time) is one argument of the script."""
    words = shlex.split(cmd.take_lock(LAYOUT, holder))
    assert words == ["sh", "-s", "--", "lock", "/tmp/pocketcloud-deploy-shop.lock", holder]


FOLDER = TEXT.filter(lambda t: "/" not in t and t not in (".", ".."))


@given(st.lists(TEXT, min_size=1, max_size=4), FOLDER)
def test_manage_args_and_folder_are_words(args: list[str], folder: str) -> None:
    """manage.py's arguments and the project's folder survive as words of the line."""
    words = shlex.split(cmd.manage(LAYOUT, "R1", folder, PurePosixPath("/v"), *args))
    assert words[:6] == ["cd", f"/srv/app/shop/releases/R1/{folder}", "&&", "umask", "077", "&&"]
    assert words[-len(args) - 2 :] == ["/v/bin/python", "manage.py", *args]


@given(TEXT)
def test_settings_values_are_one_json_word(name: str) -> None:
    """The release's ALLOWED_HOSTS reach the settings script as one JSON argument."""
    words = shlex.split(cmd.production_settings(LAYOUT, "R1", (name,)))
    assert words[:4] == [
        "python3", "-", "/srv/app/shop/shared/settings.json",
        "/srv/app/shop/releases/R1/.settings.json",
    ]  # fmt: skip
    assert len(words) == 5
    assert words[4].endswith("]}")
