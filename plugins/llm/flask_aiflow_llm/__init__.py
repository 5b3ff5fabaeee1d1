"""flask-aiflow skill ``llm``: a language model answers what the rule skills did not.

Configured by ``AIFLOW_LLM``; talks to any OpenAI-compatible chat-completions
endpoint through the official ``openai`` client. The package is the skill:
its entry point (``flask_aiflow.skills``: ``llm``) names this module, whose
hook implementations come from :mod:`.skill`.
"""

from .skill import (
    AIFLOW_NAME,
    AIFLOW_PRIORITY,
    aiflow_startup,
    aiflow_user_speak,
    settings,
)

__all__ = ["AIFLOW_NAME", "AIFLOW_PRIORITY", "aiflow_startup", "aiflow_user_speak", "settings"]
