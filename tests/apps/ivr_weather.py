"""The IVR example plus two third-party skills: weather (INTENT) and smalltalk (GENERIC).

Served by the floor-rule tests: the menu holds the floor after the greeting,
and its re-prompt must neither swallow the weather answer nor lose to smalltalk.
"""

from examples.ivr_app import create_app
from tests.skills import smalltalk, weather

app = create_app(skills=[weather, smalltalk])
