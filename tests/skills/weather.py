"""A third-party skill written from the README alone: answers weather questions at INTENT."""

from flask_aiflow import INTENT, hookimpl

AIFLOW_NAME = "weather"
AIFLOW_PRIORITY = INTENT
AIFLOW_INLINE = True

FORECAST = "It is sunny in Düsseldorf, twenty-one degrees."


@hookimpl
def aiflow_user_speak(event):
    if "weather" in event.text.lower():
        return FORECAST
    return None
