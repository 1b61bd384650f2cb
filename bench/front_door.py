"""Turn cost through ``mnemo run``'s HTTP chat API, as a client of the bot sees it.

Starts the scripted model server (answering instantly, in its own process) and ``mnemo run``
processes on the embedded store, each pinned to a core of its own, and talks to them through
the inspector's chat endpoint (``POST /inspector/api/agents/{agent}/chat``, which answers once
the reply is delivered). Prints:

- one conversation, ``--sequential`` messages one after the other: p50/p99 per message, and
  the p50 of its first and last 20 messages (flat when history grows);
- ``--conversations`` x ``--messages`` concurrently (each conversation in order): messages/s
  with one bot process on one core, then with two processes on two cores sharing one file.

The model and this client run on the cores the bots are not pinned to (on a two-core machine,
with the two-process run, they share the bots' cores).

    .venv/bin/python -m bench.front_door [--sequential 200] [--conversations 20] [--messages 10]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path

import aiohttp

from tests.e2e.mnemo_process import MnemoProcess, bot_environment
from tests.fakes.openai_server import FakeOpenAIProcess

API = "/inspector/api"
#: Messages at each end of the sequential run compared for flatness.
ENDS = 20


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@contextlib.contextmanager
def pinned(cores: set[int]) -> Iterator[None]:
    """Processes started inside run on ``cores`` (children inherit this process's affinity)."""
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, cores)
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def children() -> set[int]:
    """Pids of this process's children (Linux)."""
    pids: set[int] = set()
    for task in Path("/proc/self/task").iterdir():
        pids.update(int(pid) for pid in (task / "children").read_text().split())
    return pids


def cpu_seconds(pids: Sequence[int]) -> float:
    """CPU time the processes ``pids`` have used so far, user and system (Linux)."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


class ChatClient:
    """Says messages to one bot process through its HTTP chat API."""

    def __init__(self, port: int, token: str, pid: int) -> None:
        self.pid = pid
        self._api = f"http://127.0.0.1:{port}{API}"
        self._url = ""
        self._headers = {"Authorization": f"Bearer {token}"}
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120))

    async def connect(self) -> None:
        """Talk to the default agent, named by its id as the API lists it."""
        async with self._http.get(f"{self._api}/agents", headers=self._headers) as r:
            agent = (await r.json())["default_agent_id"]
        self._url = f"{self._api}/agents/{agent}/chat"

    async def close(self) -> None:
        await self._http.close()

    async def say(self, user: int, text: str) -> float:
        """Seconds from sending ``text`` as user ``user`` (in a DM) to having the reply."""
        body = {"workspace": "bench:W1", "kind": "dm", "channel": f"D{user}", "user": f"U{user}"}
        started = time.perf_counter()
        async with self._http.post(
            self._url, json=body | {"text": text}, headers=self._headers
        ) as r:
            answer = await r.json()
        elapsed = time.perf_counter() - started
        if r.status != 200 or not answer["settled"] or not answer["replies"]:
            raise RuntimeError(f"chat answered {r.status}: {answer}")
        return elapsed


@contextlib.asynccontextmanager
async def bots(
    llm: FakeOpenAIProcess, data_dir: Path, cores: Sequence[int]
) -> AsyncIterator[list[ChatClient]]:
    """One ``mnemo run`` per core in ``cores``, all on one store; a chat client for each."""
    token = secrets.token_urlsafe(16)
    env = bot_environment(
        OPENAI_API_KEY="bench",
        OPENAI_BASE_URL=llm.base_url,
        MNEMO_DATA_DIR=str(data_dir / "data"),
        MNEMO_HTTP_HOST="127.0.0.1",
        MNEMO_HTTP_PORT="0",
        MNEMO_INSPECTOR_TOKEN=token,
        MNEMO_LOG_FORMAT="json",
    )
    async with contextlib.AsyncExitStack() as stack:
        clients = []
        for core in cores:
            before = children()
            with pinned({core}):
                bot = await stack.enter_async_context(MnemoProcess(env, data_dir, f"bot{core}"))
            (pid,) = children() - before
            client = ChatClient(bot.port, token, pid)
            stack.push_async_callback(client.close)
            await client.connect()
            clients.append(client)
        yield clients


async def converse(client: ChatClient, user: int, messages: int) -> list[float]:
    return [
        await client.say(user, f"message {m}: how is the release going?") for m in range(messages)
    ]


async def sequential(client: ChatClient, messages: int) -> None:
    cpu = cpu_seconds([client.pid])
    latencies = await converse(client, 0, messages)
    cpu = cpu_seconds([client.pid]) - cpu
    first, last = latencies[:ENDS], latencies[-ENDS:]
    print(
        f"one conversation, {messages} messages in a row: "
        f"p50 {statistics.median(latencies) * 1000:.1f} ms, "
        f"p99 {percentile(latencies, 0.99) * 1000:.1f} ms; p50 of messages 1-{ENDS} "
        f"{statistics.median(first) * 1000:.1f} ms, of the last {ENDS} "
        f"{statistics.median(last) * 1000:.1f} ms; bot CPU {cpu / messages * 1000:.1f} ms/message"
    )


async def concurrent(clients: Sequence[ChatClient], conversations: int, messages: int) -> None:
    pids = [client.pid for client in clients]
    cpu = cpu_seconds(pids)
    started = time.perf_counter()
    runs = await asyncio.gather(
        *(converse(clients[n % len(clients)], 1000 + n, messages) for n in range(conversations))
    )
    elapsed = time.perf_counter() - started
    cpu = cpu_seconds(pids) - cpu
    latencies = [t for run in runs for t in run]
    print(
        f"{conversations} conversations x {messages} messages at once, {len(clients)} "
        f"process(es) on {len(clients)} core(s): {len(latencies) / elapsed:.0f} messages/s "
        f"(p50 {statistics.median(latencies) * 1000:.1f} ms, "
        f"p99 {percentile(latencies, 0.99) * 1000:.1f} ms; "
        f"bot CPU {cpu / len(latencies) * 1000:.1f} ms/message)"
    )


async def main(sequential_messages: int, conversations: int, messages: int) -> None:
    cores = sorted(os.sched_getaffinity(0))
    bot_core, rest = cores[0], set(cores[1:]) or {cores[0]}
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"{len(cores)} cores visible, load average {load}; instant fake model")
    with pinned(rest):
        async with FakeOpenAIProcess() as llm:
            with tempfile.TemporaryDirectory() as tmp:
                async with bots(llm, Path(tmp), [bot_core]) as (client,):
                    await client.say(0, "warm up")
                    await sequential(client, sequential_messages)
                    await concurrent([client], conversations, messages)
            if len(cores) > 1:
                with tempfile.TemporaryDirectory() as tmp:
                    async with bots(llm, Path(tmp), cores[:2]) as clients:
                        await asyncio.gather(
                            *(c.say(2000 + i, "warm up") for i, c in enumerate(clients))
                        )
                        await concurrent(clients, conversations, messages)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sequential", type=int, default=200)
    parser.add_argument("--conversations", type=int, default=20)
    parser.add_argument("--messages", type=int, default=10)
    args = parser.parse_args()
    asyncio.run(main(args.sequential, args.conversations, args.messages))
