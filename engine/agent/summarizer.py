"""Recursive summaries of messages evicted from the context window."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from engine.agent.context import TokenCount
from engine.llm import ChatModel, ChatRequest
from engine.records import Agent, Message, Role

SUMMARY_PROMPT = """\
You keep the running summary of a conversation that an assistant called {name} takes part in. \
Older messages are leaving the assistant's context window; fold them into the summary.

Keep: who said what that matters, facts about people, decisions, commitments and open \
questions, dates and names exactly. Drop greetings and small talk. Write at most {words} \
words of plain prose, oldest first. Output only the new summary."""

SUMMARY_WORDS = 300
#: Tokens a summary's answer may take: its words, with room to spare.
SUMMARY_TOKENS = 600
#: Tokens of the prompt besides the transcript (instructions, the previous summary's frame).
_PROMPT_TOKENS = 400
#: The most of an agent's context budget a summary may take, however verbose the model was.
SUMMARY_SHARE = 0.15


def bounded(text: str, tokens: TokenCount, limit: int) -> str:
    """``text`` cut (at a word) until it counts at most ``limit`` tokens."""
    while text and tokens.count(text) > limit:
        cut = text[: int(len(text) * 0.8)]
        text = (cut.rsplit(" ", 1)[0] if " " in cut else cut).rstrip() + " …"
    return text


def transcript_line(message: Message) -> str:
    if message.role is Role.USER:
        return f"[{message.created_at:%Y-%m-%d %H:%M}] {message.author_name}: {message.content}"
    if message.role is Role.ASSISTANT:
        said = [message.content] if message.content else []
        said += [f"(called {c.name} {c.arguments})" for c in message.tool_calls]
        return f"{message.author_name or 'assistant'}: {' '.join(said)}"
    return f"(tool result: {message.content[:300]})"


class Summarizer:
    """Folds evicted messages into the previous summary, in chunks that fit the budget."""

    def __init__(self, llm: ChatModel, tokens: Callable[[str], TokenCount]) -> None:
        self._llm = llm
        self._tokens_for = tokens

    async def summarize(self, agent: Agent, previous: str, evicted: Sequence[Message]) -> str:
        tokens = self._tokens_for(agent.model)
        summary = previous
        # Prompt and answer fit the budget, as they must fit a local model's context window.
        room = agent.context_budget - self._answer_tokens(agent) - _PROMPT_TOKENS
        chunk: list[str] = []
        used = tokens.count(summary)
        for message in evicted:
            line = transcript_line(message)
            cost = tokens.count(line)
            if chunk and used + cost > room:
                summary = await self._fold(agent, summary, chunk)
                chunk, used = [], tokens.count(summary)
            chunk.append(line if cost <= room else line[: room * 3])
            used += cost
        if chunk:
            summary = await self._fold(agent, summary, chunk)
        return bounded(summary, tokens, int(agent.context_budget * SUMMARY_SHARE))

    async def _fold(self, agent: Agent, summary: str, lines: Sequence[str]) -> str:
        system = SUMMARY_PROMPT.format(name=agent.name, words=SUMMARY_WORDS)
        body = (f"Summary so far:\n{summary}\n\n" if summary else "") + (
            "Messages to fold in:\n" + "\n".join(lines)
        )
        messages = [{"role": "system", "content": system}, {"role": "user", "content": body}]
        completion = await self._llm.complete(
            ChatRequest(agent.model, messages, max_tokens=self._answer_tokens(agent))
        )
        return (completion.text or summary).strip()

    @staticmethod
    def _answer_tokens(agent: Agent) -> int:
        return min(agent.max_tokens, SUMMARY_TOKENS)
