"""The `portico` command."""
