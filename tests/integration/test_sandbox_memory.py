"""A sandboxed tool reaches the calling agent's memory only through the engine's bridge."""

from __future__ import annotations

import textwrap

from engine.tools.custom import tool_from_source
from engine.tools.sandbox import MemoryBridge, MemoryRefused, Sandbox, SandboxLimits, SandboxOutcome

LIMITS = SandboxLimits(wall_seconds=3.0)


class FakeMemory:
    """Blocks and passages in dicts, recording every call the tool made."""

    def __init__(self) -> None:
        self.blocks = {"human": "Name: Ada"}
        self.passages: list[tuple[str, list[str]]] = []
        self.calls: list[str] = []

    async def read(self, label: str) -> str:
        self.calls.append(f"read {label}")
        if label not in self.blocks:
            raise MemoryRefused(f"there is no block called {label!r}")
        return self.blocks[label]

    async def append(self, label: str, text: str) -> str:
        self.calls.append(f"append {label}")
        self.blocks[label] = f"{self.blocks.get(label, '')}\n{text}".strip()
        return f"Appended to {label}."

    async def replace(self, label: str, old: str, new: str) -> str:
        self.calls.append(f"replace {label}")
        if old not in self.blocks.get(label, ""):
            raise MemoryRefused(f"{old!r} is not in {label}")
        self.blocks[label] = self.blocks[label].replace(old, new)
        return f"Updated {label}."

    async def archival_search(self, query: str) -> str:
        self.calls.append(f"archival_search {query}")
        hits = [text for text, _ in self.passages if query.lower() in text.lower()]
        return "\n".join(hits) or "No archival passages matched."

    async def archival_insert(self, text: str, tags: list[str]) -> str:
        self.calls.append(f"archival_insert {','.join(tags)}")
        self.passages.append((text, tags))
        return "Stored in archival memory."


async def run_tool(body: str, memory: MemoryBridge | None) -> SandboxOutcome:
    tool = tool_from_source(textwrap.dedent(body), "tool", origin="memory_tool.py")
    return await Sandbox().run(tool, {}, memory=memory, limits=LIMITS)


async def test_a_tool_reads_and_edits_memory_through_the_bridge() -> None:
    memory = FakeMemory()
    outcome = await run_tool(
        '''
        from mnemo_tool import memory

        def tool() -> dict:
            """Use every memory call."""
            before = memory.read("human")
            memory.append("human", "Likes: tea")
            memory.replace("human", "Ada", "Ada Lovelace")
            stored = memory.archival_insert("Ada met Babbage in 1833", ["history"])
            found = memory.archival_search("babbage")
            return {"before": before, "after": memory.read("human"), "stored": stored,
                    "found": found}
        ''',
        memory,
    )
    assert outcome.ok, outcome.output
    assert outcome.output == (
        '{"before": "Name: Ada", "after": "Name: Ada Lovelace\\nLikes: tea", '
        '"stored": "Stored in archival memory.", "found": "Ada met Babbage in 1833"}'
    )
    assert memory.blocks["human"] == "Name: Ada Lovelace\nLikes: tea"
    assert memory.passages == [("Ada met Babbage in 1833", ["history"])]
    assert memory.calls == [
        "read human",
        "append human",
        "replace human",
        "archival_insert history",
        "archival_search babbage",
        "read human",
    ]


async def test_a_refused_memory_call_reaches_the_tool_as_mnemo_error() -> None:
    memory = FakeMemory()
    outcome = await run_tool(
        '''
        from mnemo_tool import MnemoError, memory

        def tool() -> str:
            """Handle a refusal."""
            try:
                memory.replace("human", "Grace", "Ada")
            except MnemoError as exc:
                return f"refused: {exc}"
            return "replaced"
        ''',
        memory,
    )
    assert outcome.ok, outcome.output
    assert outcome.output == "refused: 'Grace' is not in human"
    assert memory.blocks["human"] == "Name: Ada"


async def test_an_unhandled_refusal_is_a_readable_tool_error() -> None:
    outcome = await run_tool(
        '''
        from mnemo_tool import memory

        def tool() -> str:
            """Read a block that does not exist."""
            return memory.read("diary")
        ''',
        FakeMemory(),
    )
    assert not outcome.ok
    assert "MnemoError: there is no block called 'diary'" in outcome.output


async def test_without_a_conversation_memory_calls_are_refused() -> None:
    outcome = await run_tool(
        '''
        from mnemo_tool import memory

        def tool() -> str:
            """Read memory outside a conversation."""
            return memory.read("human")
        ''',
        None,
    )
    assert not outcome.ok
    assert "memory is not available here" in outcome.output


async def test_bad_memory_call_arguments_are_refused_not_passed_on() -> None:
    memory = FakeMemory()
    outcome = await run_tool(
        '''
        from mnemo_tool import MnemoError, memory

        def tool() -> list:
            """Call memory with wrong types."""
            answers = []
            for call in (lambda: memory.append("human", 42),
                         lambda: memory.archival_insert("x", "not-a-list")):
                try:
                    call()
                except MnemoError as exc:
                    answers.append(str(exc))
            return answers
        ''',
        memory,
    )
    assert outcome.ok, outcome.output
    assert outcome.output == '["text must be a string", "tags must be a list of strings"]'
    assert memory.calls == []
