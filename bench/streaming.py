"""Mnemo's own delay in streaming a reply into Slack while the model writes it.

Turns run through the whole pipeline on the embedded store, against the scripted model server
streaming a ``send_message`` call a few characters at a time, and Slack's delivery port
talking to the fake Slack Web API, all in this process (both fakes answer with TCP_NODELAY).
For each turn it takes, from the fakes' own clocks:

- first token -> first text on Slack: from the model's first chunk carrying the reply's text to
  the first stream call carrying it (``chat.startStream``: slack_sdk's stream helper starts the
  stream with the first text);
- first token -> first ``chat.appendStream`` (it carries the second piece, so the model's pace
  is part of it);
- each piece -> on Slack: from each chunk of the reply's text to the stream call carrying it;
- last token -> ``chat.stopStream``: from the chunk that closes the reply's text.

    .venv/bin/python -m bench.streaming [--turns 40] [--gap-ms 20]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from bot.wiring import Runtime
from engine import Audience, AudienceKind
from tests.fakes.openai_server import FakeOpenAI, StreamedChunk, tool_call
from tests.fakes.slack_api import ApiCall, FakeSlackApi
from tests.fakes.slack_world import answer_in_thread, delivering_runtime

TEAM = "T0001"
CHANNEL = "CBENCH"
STREAM_CALLS = ("chat.startStream", "chat.appendStream", "chat.stopStream")
ANSWER = (
    "Here is what I remember about the release: it ships on Thursday, the notes are in "
    "the design doc, and Ann is reviewing the migration guide before then."
)
#: The arguments' JSON before the message's first character.
ARGUMENTS_PREFIX = len('{"message": "')


@dataclass(frozen=True, slots=True)
class TurnDelays:
    """One turn's delays, in seconds."""

    first_text: float
    first_append: float
    pieces: tuple[float, ...]
    stop: float


def text_chunks(log: Sequence[StreamedChunk]) -> list[tuple[StreamedChunk, int]]:
    """The chunks that carried characters of the reply's text, each with how much of the
    text was written once it was (the last one is the chunk closing the string)."""
    end = 0
    chunks: list[tuple[StreamedChunk, int]] = []
    for chunk in log:
        before, end = end, end + len(chunk.carried)
        if end > ARGUMENTS_PREFIX and before <= ARGUMENTS_PREFIX + len(ANSWER):
            chunks.append((chunk, min(end - ARGUMENTS_PREFIX, len(ANSWER))))
    return chunks


def carried(call: ApiCall) -> str:
    chunks = call.args.get("chunks") or []
    return str(call.args.get("markdown_text") or "") + "".join(
        str(c.get("text", "")) for c in chunks
    )


def delays(log: Sequence[StreamedChunk], calls: Sequence[ApiCall]) -> TurnDelays:
    chunks = text_chunks(log)
    stream = [call for call in calls if call.method in STREAM_CALLS]
    with_text = [call for call in stream if carried(call)]
    appends = [call for call in stream if call.method == "chat.appendStream"]
    [stop] = [call for call in stream if call.method == "chat.stopStream"]
    # Each piece of text is on Slack with the first call that shows all of it.
    pieces: list[float] = []
    calls_left = iter(with_text)
    call = next(calls_left)
    shown = len(carried(call))
    for chunk, written in chunks:
        while shown < written:
            call = next(calls_left)
            shown += len(carried(call))
        pieces.append(call.at - chunk.at)
    first = chunks[0][0].at
    return TurnDelays(
        first_text=with_text[0].at - first,
        first_append=appends[0].at - first if appends else float("nan"),
        pieces=tuple(pieces),
        stop=stop.at - chunks[-1][0].at,
    )


async def one_turn(runtime: Runtime, llm: FakeOpenAI, api: FakeSlackApi, n: int) -> TurnDelays:
    llm.stream_log.clear()
    api.calls.clear()
    llm.push(tool_call("send_message", message=ANSWER))
    audience = Audience(f"slack:{TEAM}", AudienceKind.PUBLIC, CHANNEL)
    text = f"what do you remember about the release? ({n})"
    await answer_in_thread(runtime, audience, f"{1_700_000_000 + n}.000100", text)
    return delays(llm.stream_log, api.calls)


def percentiles(values: Sequence[float]) -> str:
    ms = sorted(v * 1000 for v in values)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    return f"p50 {statistics.median(ms):6.1f} ms   p95 {p95:6.1f} ms   max {ms[-1]:6.1f} ms"


async def main(turns: int, gap_ms: float) -> None:
    api = FakeSlackApi(team_id=TEAM, assistant_threads=False)
    async with FakeOpenAI() as llm, delivering_runtime(api, llm) as runtime:
        llm.stream_pacing.piece = 4
        llm.stream_pacing.gap = gap_ms / 1000
        await one_turn(runtime, llm, api, 0)  # warm-up
        measured = [await one_turn(runtime, llm, api, n + 1) for n in range(turns)]
    pieces = [delay for turn in measured for delay in turn.pieces]
    appends = [turn.first_append for turn in measured if turn.first_append == turn.first_append]
    print(f"streaming into Slack: {turns} turns, a {len(ANSWER)}-character reply written")
    print(f"4 characters every {gap_ms:g} ms; times from the fakes' clocks, this process")
    rows = [
        ("first token -> first text on Slack (startStream)", [t.first_text for t in measured]),
        ("first token -> first chat.appendStream", appends),
        ("each piece  -> the stream call carrying it", pieces),
        ("last token  -> chat.stopStream", [t.stop for t in measured]),
    ]
    for name, values in rows:
        if values:
            print(f"{name:<50}{percentiles(values)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=40)
    parser.add_argument("--gap-ms", type=float, default=20.0, help="the model's pace")
    args = parser.parse_args()
    asyncio.run(main(args.turns, args.gap_ms))
