"""django-storages' S3Storage, unchanged, against a live server: the seed's Django app keeps
its uploaded media in a bucket (save, exists, size, listdir, open, url, delete)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.plugin.clouds import Server

pytestmark = pytest.mark.shared_cloud

#: pinned, so that no release can change the test (boto3 is this venv's, from the lock)
PACKAGES = ["Django==5.2.20", "django-storages==1.14.6", "asgiref==3.11.0", "sqlparse==0.5.5"]
CACHE = Path("/var/tmp/pocketcloud-test-cache")

APP = """
import json, sys, urllib.request
import django
from django.conf import settings
from django.core.files.base import ContentFile

endpoint, key, secret, bucket = sys.argv[1:5]
settings.configure(STORAGES={"default": {
    "BACKEND": "storages.backends.s3.S3Storage",
    "OPTIONS": {"bucket_name": bucket, "endpoint_url": endpoint, "access_key": key,
                "secret_key": secret, "region_name": "us-east-1", "file_overwrite": False},
}})
django.setup()
from django.core.files.storage import default_storage as storage

name = storage.save("uploads/photo.txt", ContentFile(b"uploaded through Django"))
again = storage.save("uploads/photo.txt", ContentFile(b"second"))  # a free name is chosen
with storage.open(name) as stored:
    body = stored.read().decode()
with urllib.request.urlopen(storage.url(name), timeout=10) as answer:
    fetched = answer.read().decode()
listed = storage.listdir("uploads")
out = {"name": name, "again": again, "exists": storage.exists(name), "size": storage.size(name),
       "body": body, "fetched": fetched, "listed": listed}
storage.delete(name)
storage.delete(again)
out["gone"] = not storage.exists(name)
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def django_storages(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Django and django-storages, pinned, installed beside this venv's boto3."""
    target = tmp_path_factory.mktemp("django-storages")
    env = {**os.environ, "PIP_CACHE_DIR": str(CACHE / "pip")}
    pip = [sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, "--no-deps", "--target", str(target), *PACKAGES], check=True, env=env)
    return target


def test_media_in_a_bucket(cloud: Server, django_storages: Path, tmp_path: Path) -> None:
    """S3Storage saves a file, finds a free name for a second one, reads it back, signs a
    URL plain HTTP can fetch, lists the folder and deletes both."""
    s3: Any = cloud.client("s3")
    s3.create_bucket(Bucket="pc-media")
    script = tmp_path / "app.py"
    script.write_text(APP)
    env = {**os.environ, "PYTHONPATH": str(django_storages)}
    done = subprocess.run(
        [sys.executable, str(script), cloud.endpoint, cloud.access_key_id, cloud.secret,
         "pc-media"],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["name"] == "uploads/photo.txt"
    assert out["again"].startswith("uploads/photo_")  # the name was taken: HeadObject said so
    assert (out["exists"], out["size"]) == (True, len("uploaded through Django"))
    assert out["body"] == out["fetched"] == "uploaded through Django"
    names = [name.rsplit("/", 1)[-1] for name in (out["name"], out["again"])]
    assert sorted(out["listed"][1]) == sorted(names)
    assert out["gone"] is True
    assert s3.list_objects_v2(Bucket="pc-media")["KeyCount"] == 0
