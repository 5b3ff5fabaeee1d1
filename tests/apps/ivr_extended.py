"""The IVR example plus the crashing test skill (``tests.skills.broken``, priority 90).

The end-to-end tests serve it with extra settings from the environment
(``FLASK_AIFLOW_SKILLS``, ``FLASK_AIFLOW_VIP``, ``FLASK_AIFLOW_SKILL_PRIORITIES``),
read by the example's ``create_app``.
"""

from examples.ivr_app import create_app
from tests.skills import broken

app = create_app(skills=[broken])
