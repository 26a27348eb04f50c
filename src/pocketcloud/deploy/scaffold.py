"""``pocketcloud django new``: the seed's local practice steps, done for real.

The seed (SEED.md, "Practice") makes a folder, a virtual environment with Django in
it, runs ``startproject``, renames the outer folder to ``django_app``, moves the
secrets into ``.conf/*.json`` merged by a for loop in settings.py, and ends with
``git init``, ``.gitignore``, ``pip freeze > requirements.txt`` and a first commit.
:func:`new_project` does each of those and echoes the shell command a learner would
type for it::

    <name>/                      the top folder
      .venv/                     python3 -m venv; pip install Django gunicorn
      .gitignore
      requirements.txt           pip freeze
      .conf/settings_common.json committed
      .conf/settings_local.json  SECRET_KEY, DEBUG, ALLOWED_HOSTS, AWS keys; not committed
      django_app/                startproject's outer folder, renamed
        manage.py
        <name>/settings.py urls.py views.py wsgi.py asgi.py

What the files say is decided in pure functions (:func:`conf_files`,
:func:`site_files`, :func:`gitignore`) from the templates in ``templates/django``.
The commands run here, on the user's own machine, in the new folder: this module is
the local edge of the hosting tool, as its SSH runner is the remote one (``host.run``
cannot run a command in a folder, and a learner should see the very command that ran).
"""

from __future__ import annotations

import importlib.util
import json
import keyword
import shlex
import shutil
import subprocess
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path, PurePosixPath

SITE_DIR = "django_app"
#: Django, gunicorn, and django-storages with boto3 for media in S3 (``deploy --bucket``)
PACKAGES = ("Django", "gunicorn", "django-storages[s3]")
GIT_IDENTITY = ("-c", "user.name=pocketcloud", "-c", "user.email=pocketcloud@localhost")
RANDOM_KEY_PROGRAM = (
    "from django.core.management.utils import get_random_secret_key; print(get_random_secret_key())"
)
# Importable in the new venv though maybe not here; a project named so would shadow them.
TAKEN_NAMES = frozenset({"django", "gunicorn", "asgiref", "sqlparse", "pip", "setuptools"})
OUTPUT_TAIL = 15  # lines of a failed command's output shown to the user

Echo = Callable[[str], None]


class ScaffoldError(Exception):
    """A step of ``django new`` failed; ``step`` names it, the message says why."""

    def __init__(self, step: str, message: str) -> None:
        self.step = step
        super().__init__(message)


# --------------------------------------------------------------------- pure parts


def check_name(name: str) -> None:
    """Django's rule for a project name: an identifier that is not a module already."""
    if not name.isidentifier() or keyword.iskeyword(name):
        raise ScaffoldError(
            "check the name",
            f"{name!r} is not a valid project name: use a Python identifier "
            "(letters, digits and underscores, not starting with a digit), e.g. mysite",
        )
    if name in TAKEN_NAMES or _is_module(name):
        raise ScaffoldError(
            "check the name",
            f"{name!r} conflicts with the name of an existing Python module; "
            "choose another project name",
        )


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # e.g. __main__ without a spec
        return True


def render(template: str, **values: str) -> str:
    """A template of ``templates/django`` with its ``{{ key }}`` placeholders filled."""
    text = (resources.files("pocketcloud.deploy") / "templates" / "django" / template).read_text(
        "utf-8"
    )
    for key, value in values.items():
        text = text.replace("{{ " + key + " }}", value)
    if "{{ " in text:
        raise ValueError(
            f"{template}: unfilled placeholder near {text[text.index('{{ ') :][:40]!r}"
        )
    return text


def conf_files(secret_key: str) -> dict[PurePosixPath, str]:
    """``.conf/settings_common.json`` (committed) and ``.conf/settings_local.json``
    (this machine's secrets, gitignored)."""
    local = {
        "SECRET_KEY": secret_key,
        "DEBUG": True,
        "ALLOWED_HOSTS": ["localhost", "127.0.0.1"],
        "AWS_ACCESS_KEY_ID": "",
        "AWS_SECRET_ACCESS_KEY": "",
    }
    return {
        PurePosixPath(".conf/settings_common.json"): render("settings_common.json-tpl"),
        PurePosixPath(".conf/settings_local.json"): json.dumps(local, indent=4) + "\n",
    }


def site_files(name: str, django_version: str) -> dict[PurePosixPath, str]:
    """settings.py, urls.py and views.py of the project package inside ``django_app``."""
    values = {
        "project_name": name,
        "django_version": django_version,
        "docs_version": ".".join(django_version.split(".")[:2]),
    }
    package = PurePosixPath(SITE_DIR, name)
    return {
        package / module: render(f"{module}-tpl", **values)
        for module in ("settings.py", "urls.py", "views.py")
    }


def gitignore() -> str:
    """The project's ``.gitignore``: the venv, local secrets and generated files."""
    return render("gitignore-tpl")


# ----------------------------------------------------------------- the local edge


class _Shell:
    """Runs the steps in the project folder, echoing each as a shell line."""

    def __init__(self, root: Path, echo: Echo) -> None:
        self.root = root
        self.echo = echo

    def run(self, step: str, argv: Sequence[str], *, shown: str | None = None) -> str:
        """Run ``argv`` in the project folder and return its output (starts a process)."""
        self.echo(f"$ {shown or shlex.join(argv)}")
        return self.query(step, argv, check=True)

    def query(self, step: str, argv: Sequence[str], *, check: bool = False) -> str:
        """Run ``argv`` without echoing it; '' if it fails and ``check`` is unset."""
        try:
            done = subprocess.run(
                list(argv), cwd=self.root, capture_output=True, timeout=900, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ScaffoldError(step, f"step '{step}' failed: `{shlex.join(argv)}`: {exc}") from exc
        if done.returncode == 0:
            return done.stdout.decode("utf-8", "replace")
        if not check:
            return ""
        output = (done.stdout + done.stderr).decode("utf-8", "replace").strip().splitlines()
        tail = "\n".join(output[-OUTPUT_TAIL:])
        raise ScaffoldError(
            step,
            f"step '{step}' failed: `{shlex.join(argv)}` exited with {done.returncode}:\n{tail}",
        )

    def move(self, source: str, target: str) -> None:
        """Rename a folder of the project (``mv``)."""
        self.echo(f"$ mv {source} {target}")
        try:
            (self.root / source).rename(self.root / target)
        except OSError as exc:
            raise ScaffoldError(
                "rename", f"step 'rename' failed: mv {source} {target}: {exc}"
            ) from exc

    def write(self, relative: PurePosixPath, text: str, why: str | None) -> None:
        """Write a file of the project, echoing ``why`` unless it is None;
        settings_local.json is readable by its owner only from the start."""
        path = self.root / relative
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if relative.name == "settings_local.json":
                path.touch(mode=0o600, exist_ok=False)
            path.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise ScaffoldError("write", f"step 'write {relative}' failed: {exc}") from exc
        if why is not None:
            self.echo(f"# wrote {relative}: {why}")


def new_project(name: str, parent: Path, *, python: str = "python3", echo: Echo) -> Path:
    """Make the Django project ``parent/name`` and return its folder.

    Side effects: creates the folder, a virtualenv (pip downloads Django and gunicorn)
    and a git repository with one commit; runs ``python``, pip, django-admin and git as
    the calling user (no privilege needed). ScaffoldError if the name is invalid, the
    folder exists or a step fails; a half-made folder is removed.
    """
    check_name(name)
    parent = parent.expanduser().resolve()
    if not parent.is_dir():
        raise ScaffoldError("check the folder", f"{parent} is not a folder")
    root = parent / name
    exists = f"{root} already exists: choose another name or --dir; nothing was changed"
    if root.exists() or root.is_symlink():
        raise ScaffoldError("make the folder", exists)
    echo(f"$ mkdir {shlex.quote(name)} && cd {shlex.quote(name)}")
    try:
        root.mkdir()
    except FileExistsError as exc:
        raise ScaffoldError("make the folder", exists) from exc
    except OSError as exc:
        raise ScaffoldError("make the folder", f"cannot make {root}: {exc}") from exc
    try:
        _build(_Shell(root, echo), name, python)
    except ScaffoldError as error:
        shutil.rmtree(root, ignore_errors=True)
        raise ScaffoldError(error.step, f"{error}\n(removed the half-made {root})") from error
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    return root


def _build(shell: _Shell, name: str, python: str) -> None:
    """The seed's steps 2, 3, 5 and 6 inside the new top folder."""
    # a python given as a path is the caller's, not relative to the new folder
    runnable = str(Path(python).expanduser().absolute()) if "/" in python else python
    shell.run(
        "make the virtual environment",
        [runnable, "-m", "venv", ".venv"],
        shown=shlex.join([python, "-m", "venv", ".venv"]),
    )
    shell.run(
        "install Django, gunicorn and django-storages", [".venv/bin/pip", "install", *PACKAGES]
    )
    shell.run("start the Django project", [".venv/bin/django-admin", "startproject", name])
    shell.move(name, SITE_DIR)
    version = shell.run("read Django's version", [".venv/bin/python", "-m", "django", "--version"])
    secret = shell.run("make a secret key", [".venv/bin/python", "-c", RANDOM_KEY_PROGRAM]).strip()
    common, local = conf_files(secret).items()
    shell.write(*common, "committed; values shared by every machine")
    shell.write(*local, "SECRET_KEY, DEBUG, ALLOWED_HOSTS, AWS keys; never committed")
    for relative, text in site_files(name, version.strip()).items():
        shell.write(relative, text, _SITE_NOTES[relative.name])
    shell.run("git init", ["git", "init"])
    shell.write(PurePosixPath(".gitignore"), gitignore(), ".venv/, settings_local.json, ...")
    freeze = shell.run(
        "pip freeze", [".venv/bin/pip", "freeze"], shown=".venv/bin/pip freeze > requirements.txt"
    )
    shell.write(PurePosixPath("requirements.txt"), freeze, None)
    shell.run("git add", ["git", "add", "-A"])
    has_identity = all(
        shell.query("git config", ["git", "config", key]).strip()
        for key in ("user.name", "user.email")
    )
    identity = () if has_identity else GIT_IDENTITY
    message = f"First commit: Django project {name}"
    shell.run("first commit", ["git", *identity, "commit", "-q", "-m", message])


_SITE_NOTES = {
    "settings.py": "DIR paths with os.path; .conf/*.json merged with a for loop",
    "urls.py": "/, /healthz and /upload/ beside /admin/",
    "views.py": "/ shows the release and host; /healthz answers ok; /upload/ stores a file",
}
