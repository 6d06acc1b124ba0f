"""Collectors of hardware and software facts for the `inventory` command."""
