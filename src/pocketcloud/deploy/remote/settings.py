"""Run on the server by ``pocketcloud deploy``: write the production settings file.

``python3 - <settings.json> <json of values>``: keeps the SECRET_KEY it finds (or makes
one: it never leaves the server), sets the given values, writes the file with mode 0600
by rename. Standard library only.
"""

import json
import os
import secrets
import sys

path, values = sys.argv[1], json.loads(sys.argv[2])
try:
    with open(path) as current:
        data = json.load(current)
except FileNotFoundError:
    data = {}
if not data.get("SECRET_KEY"):
    data["SECRET_KEY"] = secrets.token_urlsafe(50)
    print("settings: a new SECRET_KEY was made on the server")
data.update(values)
temporary = f"{path}.tmp"
fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
with os.fdopen(fd, "w") as out:
    json.dump(data, out, indent=2, sort_keys=True)
os.chmod(temporary, 0o600)
os.replace(temporary, path)
print(f"settings: {path} (0600): " + ", ".join(f"{k}={data[k]!r}" for k in sorted(values)))
