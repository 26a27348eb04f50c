"""Run on the server by ``pocketcloud deploy``: write a release's production settings.

``python3 - <shared settings.json> <release settings.json> <json of values>``: the shared
file keeps what it holds (SECRET_KEY and the user's own settings); it is only made, with a
new SECRET_KEY that never leaves the server, when it has none. The values go to the
release's own file, which the release reads after the shared one: a release that fails
changes nothing the serving release reads. Both files are 0600, written by rename.
Standard library only.
"""

import json
import os
import secrets
import sys

shared, release, values = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])


def write(path: str, data: dict[str, object]) -> None:
    temporary = f"{path}.tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(data, out, indent=2, sort_keys=True)
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)


try:
    with open(shared) as current:
        data = json.load(current)
except FileNotFoundError:
    data = {}
if not data.get("SECRET_KEY"):
    data["SECRET_KEY"] = secrets.token_urlsafe(50)
    write(shared, data)
    print(f"settings: a new SECRET_KEY was made on the server ({shared}, 0600)")
write(release, values)
print(f"settings: {release} (0600): " + ", ".join(f"{k}={values[k]!r}" for k in sorted(values)))
