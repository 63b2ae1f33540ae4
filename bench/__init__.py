"""The benchmark: the bot against a minimal nio and a minimal mautrix echo bot on one local Synapse.

`uv run python -m bench` (or `make bench`); `--quick` for a smoke run of the harness itself.
"""
