"""The pocketcloud image command against the machine's image cache."""

from __future__ import annotations

import subprocess

import pytest

from pocketcloud.host import images
from tests.plugin.clouds import BIN

pytestmark = [pytest.mark.live, pytest.mark.needs_root]


def _image(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "pocketcloud"), "image", *args],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


class TestImageCommand:
    def test_build_is_cached_and_listed(self) -> None:
        """`image build` returns the cached debian-12; `image list` shows its stable id."""
        built = _image("build")
        assert built.returncode == 0, built.stderr
        image_id = images.image_id(images.DEFAULT_IMAGE)
        assert image_id in built.stdout
        listed = _image("list")
        assert image_id in listed.stdout
        assert "debian-12" in listed.stdout

    def test_delete_unknown(self) -> None:
        """Deleting an image that is not there fails with a message, touching nothing."""
        before = [i.image_id for i in images.list_images(images.cache_dir())]
        result = _image("delete", "no-such-image")
        assert result.returncode == 1
        assert "no image no-such-image" in result.stdout
        assert [i.image_id for i in images.list_images(images.cache_dir())] == before
