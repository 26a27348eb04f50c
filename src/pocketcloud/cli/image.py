"""``pocketcloud image``: the machine's image cache (list, build, delete)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from pocketcloud.host import images as host_images
from pocketcloud.host.run import HostError

app = typer.Typer(help="Instance images (AMIs) in this machine's cache.", no_args_is_help=True)
console = Console(soft_wrap=True)


@app.command("list")
def list_() -> None:
    """The built images."""
    table = Table("IMAGE ID", "NAME", "ARCH", "SIZE", "CREATED", box=None)
    for image in host_images.list_images(host_images.cache_dir()):
        table.add_row(
            image.image_id,
            image.name,
            image.architecture,
            f"{image.size_bytes / 2**20:.0f} MiB",
            image.created,
        )
    console.print(table)


@app.command()
def build(
    name: Annotated[str, typer.Argument(help="Image to build")] = host_images.DEFAULT_IMAGE,
) -> None:
    """Build an image (once; later calls return the cached one). Needs root."""
    with console.status(f"building {name}…") as status:
        try:
            image = host_images.build_image(
                host_images.cache_dir(), name, progress=lambda line: status.update(line[-100:])
            )
        except HostError as error:
            console.print(f"[red]image build failed: {error}[/]")
            raise typer.Exit(1) from error
    console.print(f"{image.image_id} {image.name}: ready ({image.size_bytes / 2**20:.0f} MiB)")


@app.command()
def delete(name: Annotated[str, typer.Argument(help="Image name or id")]) -> None:
    """Delete a built image from the cache."""
    if not host_images.delete_image(host_images.cache_dir(), name):
        console.print(f"[red]no image {name}[/]")
        raise typer.Exit(1)
    console.print(f"deleted {name}")
