# An example third-party flask-aiflow skill: tells callers when you are open.
#
# Configuration, in the app's config: OPENING_HOURS = {"monday": "09:00-17:00", ...}.
# Days left out are closed. The default is Monday to Friday, 09:00-17:00.
import re

from flask import current_app

from flask_aiflow import SkillConfigError, hookimpl

#: Ordinary intent handling (flask_aiflow.INTENT).
AIFLOW_PRIORITY = 50

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DEFAULT_HOURS = {day: "09:00-17:00" for day in DAYS[:5]}
TRIGGERS = ("open", "hours", "closed")
_SPAN = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])-([01][0-9]|2[0-3]):([0-5][0-9])$")


@hookimpl
def aiflow_startup(app):
    """Check OPENING_HOURS once at start-up, so a typo fails loudly then, not on a call."""
    hours = app.config.setdefault("OPENING_HOURS", DEFAULT_HOURS)
    if not isinstance(hours, dict):
        raise SkillConfigError(f"OPENING_HOURS must be a dict of day -> 'HH:MM-HH:MM', got {hours!r}")
    for day, span in hours.items():
        if day not in DAYS:
            raise SkillConfigError(f"OPENING_HOURS[{day!r}]: not a day of the week (use {', '.join(DAYS)})")
        match = _SPAN.match(span) if isinstance(span, str) else None
        if match is None or match.group(1, 2) >= match.group(3, 4):
            raise SkillConfigError(f"OPENING_HOURS[{day!r}]: expected 'HH:MM-HH:MM' with opening before closing, got {span!r}")


@hookimpl
def aiflow_user_speak(event, call):
    """Answer questions about the opening hours; leave everything else to other skills."""
    if not any(word in event.text.lower() for word in TRIGGERS):
        return None
    return describe(current_app.config["OPENING_HOURS"])


def describe(hours):
    """The hours as a sentence: consecutive days with the same hours are grouped."""
    groups = []  # [first day, last day, span]
    for day in DAYS:
        span = hours.get(day)
        if span and groups and groups[-1][2] == span and DAYS.index(groups[-1][1]) == DAYS.index(day) - 1:
            groups[-1][1] = day
        elif span:
            groups.append([day, day, span])
    if not groups:
        return "We are closed all week."
    parts = []
    for first, last, span in groups:
        days = first.title() if first == last else f"{first.title()} to {last.title()}"
        opens, closes = span.split("-")
        parts.append(f"{days} from {opens} to {closes}")
    return "We are open " + ", ".join(parts) + "."
