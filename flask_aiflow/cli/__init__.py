"""The ``flask aiflow`` commands."""

from flask_aiflow.cli.commands import aiflow_cli

__all__ = ["aiflow_cli"]
