"""``python -m pocketcloud``."""

from pocketcloud.cli.main import main

main()
