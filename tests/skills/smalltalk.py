"""A catch-all chit-chat skill: answers anything at GENERIC."""

from flask_aiflow import GENERIC, hookimpl

AIFLOW_NAME = "smalltalk"
AIFLOW_PRIORITY = GENERIC
AIFLOW_INLINE = True

REPLY = "Tell me more."


@hookimpl
def aiflow_user_speak(event):
    return REPLY
