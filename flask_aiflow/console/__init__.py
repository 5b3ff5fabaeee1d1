"""The browser console (development only): place simulated calls from a web page."""

from flask_aiflow.console.blueprint import CONSOLE_KEY, ConsoleStatus, console_status, register_console

__all__ = ["CONSOLE_KEY", "ConsoleStatus", "console_status", "register_console"]
