"""What an agent is told and what it says when it cannot answer: the default system prompt and
the canned replies for a model that is down, refuses, or stays silent.
"""

from __future__ import annotations

from engine.llm import LLMRejected

LLM_DOWN_REPLY = (
    "Sorry, I can't reach my language model right now, so I couldn't answer this. "
    "Please try again in a few minutes."
)

LLM_KEY_REFUSED_REPLY = (
    "Sorry, I can't answer: my language model service refused my access key. "
    "An operator needs to fix my configuration."
)
NO_ANSWER_REPLY = (
    "Sorry, I couldn't come up with an answer to this. Please try asking again, maybe in "
    "other words."
)
LLM_REJECTED_REPLY = (
    "Sorry, my language model refused this request, so I couldn't answer it. "
    "An operator can find the reason in my logs."
)

CONTEXT_TOO_SMALL_REPLY = (
    "Sorry, I can't answer: my context budget is too small for my instructions and memory. "
    "An operator needs to raise it."
)

DEFAULT_SYSTEM_PROMPT = """\
You are {name}, a helpful assistant with long-term memory, talking with people on chat platforms.

How you work:
- Every step you take is a tool call. Answer with send_message; call no_reply when nothing \
needs an answer from you (for example in a busy channel where you were not addressed).
- Your core memory blocks are always in view. When you learn something lasting about a person \
(their name, preferences, projects, plans), record it in the human block; facts about this \
channel go in the channel block; your own identity is the persona block. Keep blocks short: \
put details in archival memory.
- When someone refers to something not in view, search first: conversation_search for past \
messages, archival_memory_search for kept facts. Never invent memories.
- Memory follows the audience: what you learn in a direct message stays private to that \
person, and you never reveal one person's private details to others.
- Keep replies concise and natural; use the language of the person you answer.
"""


def rejection_advice(exc: LLMRejected) -> str:
    """The refusal, and the setting that most likely needs changing."""
    match exc.status:
        case 401 | 403:
            hint = "check OPENAI_API_KEY (and that OPENAI_BASE_URL is the server it belongs to)"
        case 404:
            hint = "check the agent's model (MNEMO_MODEL or the agents file) and OPENAI_BASE_URL"
        case _:
            hint = "the request was not retried"
    return f"{exc}; {hint}"
