"""The goodbye skill's hook: a farewell is answered with one, then the call is hung up.

The hang-up is the farewell's follow-up: the dispatcher sends it on the
``assistant_speech_ended`` that follows the farewell, so the call neither
ends mid-sentence nor hangs in silence.
"""

from __future__ import annotations

from flask_aiflow import FLOOR, Call, Candidate, hangup
from flask_aiflow.protocol.events import UserSpeak
from flask_aiflow.skills.declare import Skill

from .config import CONFIG_KEY, GoodbyeConfig, GoodbyeSettings, build

#: Above a menu holding the floor (FLOOR, 80), below SAFETY (100); works
#: without configuration (every key has a default).
SKILL: Skill[GoodbyeSettings] = Skill(
    "goodbye",
    priority=FLOOR + 10,
    inline=True,
    config_key=CONFIG_KEY,
    model=GoodbyeConfig,
    build=build,
    needs_config=False,
)
AIFLOW_NAME, AIFLOW_PRIORITY, AIFLOW_INLINE = SKILL.declaration
aiflow_startup = SKILL.startup


@SKILL.hook
def aiflow_user_speak(event: UserSpeak, call: Call) -> Candidate | None:
    settings = SKILL.config
    phrase = settings.matcher.find(event.text)
    if phrase is None:
        return None
    farewell = settings.farewell_for(call.meta.get("to") or event.session.to_phone_number)
    return Candidate(farewell, reason=f"farewell {phrase!r}", then=[hangup()])
