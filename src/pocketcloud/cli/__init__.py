"""The ``pocketcloud`` command."""
