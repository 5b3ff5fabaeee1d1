"""Log lines that name their call, and phone numbers kept out of logs.

While an event is dispatched, :data:`session_id_var` holds its session id.
:class:`CallLogFilter` copies it onto every record as ``record.session_id``
(``"-"`` outside a call), so a format such as
``"%(asctime)s %(session_id)s %(levelname)s %(message)s"`` ties each line to
its call. The filter sits on the ``flask_aiflow`` logger; add it to your own
handler to tag (and mask) your skills' log lines too::

    handler.addFilter(flask_aiflow.logs.CallLogFilter())

With ``AIFLOW_MASK_PHONE_NUMBERS = True`` the filter also masks phone numbers
in the message (and in a logged traceback) of any record logged inside that
app's context: ``+49301234567`` becomes ``+49******567``.
"""

from __future__ import annotations

import logging
import re
from contextvars import ContextVar

from flask import current_app, has_app_context

__all__ = ["CallLogFilter", "mask_phone_numbers", "session_id_var"]

#: The session id of the event being dispatched in this context, or None.
session_id_var: ContextVar[str | None] = ContextVar("flask_aiflow_session_id", default=None)

# "+" or "00" and 6 to 15 digits, or a national "0..." number of 6 to 15
# digits; single spaces, dashes, slashes or parentheses may separate digits.
# Not inside a longer word, number or dashed id (a UUID's digit groups stay
# as they are), and never across a dot, so decimals and timestamps such as
# 1700000000000 are left alone.
_PHONE = re.compile(r"(?<![\w+\-])(?:\+|00|0)\d(?:[ \-/()]?\d){5,14}(?![\w\-])")
_KEEP_START = 2  # digits shown after "+", "00" or the national "0..."
_KEEP_END = 3


def _mask_match(match: re.Match[str]) -> str:
    text = match.group()
    digits = [i for i, char in enumerate(text) if char.isdigit()]
    prefix = 2 if text.startswith("00") else 0  # the "00" of an international prefix stays
    keep = set(digits[: prefix + _KEEP_START]) | set(digits[-_KEEP_END:])
    hidden = set(digits) - keep
    return "".join("*" if i in hidden else char for i, char in enumerate(text))


def mask_phone_numbers(text: str) -> str:
    """Replace the middle digits of every phone number in ``text`` with ``*``.

    ``+49301234567`` -> ``+49******567``; ``030 1234567`` -> ``03* ****567``.
    """
    return _PHONE.sub(_mask_match, text)


def _masking_enabled() -> bool:
    if not has_app_context():
        return False
    state = current_app.extensions.get("aiflow")
    return bool(state is not None and state.settings.mask_phone_numbers)


class CallLogFilter(logging.Filter):
    """Add ``record.session_id`` and, where the app asks for it, mask phone numbers."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "session_id"):
            record.session_id = session_id_var.get() or "-"
        if not getattr(record, "_aiflow_masked", False) and _masking_enabled():
            _mask_record(record)
        return True


_formatter = logging.Formatter()


def _mask_record(record: logging.LogRecord) -> None:
    message = record.getMessage()
    record.msg = mask_phone_numbers(message)
    record.args = None
    if record.exc_info and not record.exc_text:
        record.exc_text = _formatter.formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = mask_phone_numbers(record.exc_text)
    record._aiflow_masked = True


def install(logger: logging.Logger) -> None:
    """Put one :class:`CallLogFilter` on ``logger`` (idempotent)."""
    if not any(isinstance(f, CallLogFilter) for f in logger.filters):
        logger.addFilter(CallLogFilter())
