"""Configuration of the example assistant (override with FLASK_* environment variables)."""

import os

AIFLOW_SHARED_SECRET = os.environ.get("AIFLOW_SHARED_SECRET")
# Only this app's own skills, even if others are installed.
AIFLOW_LOAD_ENTRY_POINTS = False
AIFLOW_DEFAULT_TTS = {"provider": "azure", "language": "en-US", "voice": "en-US-JennyNeural"}
AIFLOW_FALLBACK = "Sorry, I didn't catch that. Say 'front desk' to talk to a person."

# The front-desk skill's own setting, checked when the app starts.
FRONT_DESK_NUMBER = "+4921155555000"
