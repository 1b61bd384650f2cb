"""The program a sandboxed tool call runs in (``python -I -B _bootstrap.py``); stdlib only.

It reads one JSON request from stdin, confines itself (network namespace, resource limits,
an unprivileged user, an audit hook on files, sockets and processes), runs the tool function
and writes JSON lines back on the original stdout. The tool's own prints go to stderr, which
the parent reads with a cap. Tool code can call ``mnemo_tool.memory``; each call is a request
line answered by the parent.
"""

from __future__ import annotations

import asyncio
import ctypes
import enum
import inspect
import json
import linecache
import os
import resource
import sys
import threading
import traceback
import types
from collections.abc import Callable, Mapping
from typing import Any, BinaryIO

_HOOK = "audit hook on files, sockets and processes"
_NETWORK_EVENTS = frozenset(
    {
        "socket.connect",
        "socket.bind",
        "socket.sendto",
        "socket.sendmsg",
        "socket.getaddrinfo",
        "socket.gethostbyname",
        "socket.gethostbyaddr",
    }
)
_PROCESS_EVENTS = {
    "subprocess.Popen": "starting programs",
    "os.system": "starting programs",
    "os.exec": "starting programs",
    "os.posix_spawn": "starting programs",
    "os.spawn": "starting programs",
    "os.fork": "starting processes",
    "os.forkpty": "starting processes",
    "os.kill": "signalling processes",
    "os.killpg": "signalling processes",
}
_READ_EVENTS = frozenset({"os.listdir", "os.scandir"})
_WRITE_EVENTS = frozenset(
    {"os.remove", "os.rmdir", "os.mkdir", "os.chmod", "os.chown", "os.truncate", "os.utime"}
)
_TWO_PATH_EVENTS = frozenset({"os.rename", "os.link", "os.symlink"})
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
_MS_RDONLY, _MS_NOSUID, _MS_NODEV, _MS_NOEXEC = 1, 2, 4, 8
_MS_BIND, _MS_REC, _MS_PRIVATE = 4096, 16384, 1 << 18
_READ_ONLY_EXTRA = ("/dev/null", "/dev/urandom", "/usr/share/zoneinfo", "/etc/localtime")


class SandboxViolation(PermissionError):
    """An operation the sandbox refuses; the message names it."""


class MnemoError(Exception):
    """A memory call the engine refused (unknown block, text not found, ...)."""


class _Channel:
    """JSON lines to and from the parent; one request at a time."""

    def __init__(self, reader: BinaryIO, writer: BinaryIO) -> None:
        self._reader = reader
        self._writer = writer
        self._lock = threading.Lock()
        self._next_id = 0

    def send(self, message: Mapping[str, Any]) -> None:
        self._writer.write(json.dumps(message, ensure_ascii=False).encode() + b"\n")
        self._writer.flush()

    def receive(self) -> Any:
        return json.loads(self._reader.readline())

    def call(self, method: str, args: Mapping[str, Any]) -> str:
        with self._lock:
            self._next_id += 1
            self.send({"t": "call", "id": self._next_id, "method": method, "args": args})
            answer = self.receive()
        if not answer.get("ok"):
            raise MnemoError(str(answer.get("error", "memory call failed")))
        return str(answer.get("value", ""))


class Memory:
    """The calling agent's memory, within the audience of the conversation that called the tool."""

    def __init__(self, channel: _Channel) -> None:
        self._channel = channel

    def read(self, label: str) -> str:
        return self._channel.call("read", {"label": label})

    def append(self, label: str, text: str) -> str:
        return self._channel.call("append", {"label": label, "text": text})

    def replace(self, label: str, old: str, new: str) -> str:
        return self._channel.call("replace", {"label": label, "old": old, "new": new})

    def archival_search(self, query: str) -> str:
        return self._channel.call("archival_search", {"query": query})

    def archival_insert(self, text: str, tags: list[str] | None = None) -> str:
        return self._channel.call("archival_insert", {"text": text, "tags": tags or []})


def _confine(request: Mapping[str, Any]) -> dict[str, str]:
    """Namespaces and limits that need root come first, then the user switch."""
    limits: Mapping[str, int] = request["limits"]
    network = "network allowed"
    if request.get("isolate_network"):
        try:
            os.unshare(os.CLONE_NEWNET)
            network = "network namespace"
        except OSError:
            network = "no network namespace (not permitted)"
    files = _hide_paths([str(p) for p in request.get("hide", ())])
    memory = limits["memory_bytes"]
    cpu = limits["cpu_seconds"]
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits["file_bytes"], limits["file_bytes"]))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    user = "same user as the bot"
    uid, gid = request.get("uid"), request.get("gid")
    if uid is not None and gid is not None:
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
        user = f"uid {uid}"
    return {"network": network, "files": files, "user": user, "hook": _HOOK}


def _hide_paths(paths: list[str]) -> str:
    """Cover /proc and the bot's data and secrets in a private mount namespace.

    This holds even against code that bypasses the audit hook (ctypes calling libc), which
    matters when the tool cannot run as another user.
    """
    try:
        os.unshare(os.CLONE_NEWNS)
    except OSError:
        return "no mount namespace (not permitted)"
    libc = ctypes.CDLL(None, use_errno=True)
    # Private first, so nothing mounted here ever shows in the bot's namespace.
    if libc.mount(b"none", b"/", None, _MS_REC | _MS_PRIVATE, None) != 0:
        return "no mount namespace (mounts could not be made private)"
    hidden = 0
    for path in ("/proc", *paths):
        target = os.fsencode(path)
        if os.path.isdir(path):
            flags = _MS_RDONLY | _MS_NOSUID | _MS_NODEV | _MS_NOEXEC
            done = libc.mount(b"none", target, b"tmpfs", flags, b"size=4k") == 0
        elif os.path.exists(path):
            done = libc.mount(b"/dev/null", target, None, _MS_BIND, None) == 0
        else:
            continue
        if not done:
            raise OSError(ctypes.get_errno(), f"cannot hide {path} from the tool")
        hidden += 1
    return f"mount namespace hiding {hidden} paths"


def _install_audit_hook(scratch: str, *, block_network: bool) -> None:
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    read_only = tuple({os.path.realpath(p) for p in roots} | set(roots) | set(_READ_ONLY_EXTRA))
    writable = os.path.realpath(scratch)

    def inside(path: str, root: str) -> bool:
        return path == root or path.startswith(root.rstrip("/") + "/")

    def check(raw: Any, write: bool) -> None:
        if raw is None or isinstance(raw, int):
            return  # already-open descriptors and the working directory
        path = os.path.realpath(os.fsdecode(raw))
        if inside(path, writable):
            return
        if not write and any(inside(path, root) for root in read_only):
            return
        what = "writing" if write else "reading"
        raise SandboxViolation(
            f"sandbox: {what} {path} is not allowed; tools may only use files in their "
            f"working directory ({writable})"
        )

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event == "open":
            path, mode, flags = args
            write = bool(flags & _WRITE_FLAGS) if isinstance(flags, int) else False
            if isinstance(mode, str) and any(c in mode for c in "wax+"):
                write = True
            check(path, write)
        elif event in _PROCESS_EVENTS:
            raise SandboxViolation(f"sandbox: {_PROCESS_EVENTS[event]} is not allowed ({event})")
        elif block_network and event in _NETWORK_EVENTS:
            raise SandboxViolation(f"sandbox: network access is not allowed ({event})")
        elif event in _READ_EVENTS:
            check(args[0], write=False)
        elif event in _WRITE_EVENTS:
            check(args[0], write=True)
        elif event == "sqlite3.connect":
            database = os.fsdecode(args[0]) if not isinstance(args[0], int) else ""
            if database not in {"", ":memory:"} and not database.startswith("file::memory:"):
                check(database, write=True)
        elif event in _TWO_PATH_EVENTS:
            check(args[0], write=True)
            check(args[1], write=True)

    sys.addaudithook(hook)


def _load_function(request: Mapping[str, Any], memory: Memory) -> Callable[..., Any]:
    filename = str(request["filename"])
    source = str(request["source"])
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    client = types.ModuleType("mnemo_tool", "The Mnemo client available to custom tools.")
    client.__dict__.update(memory=memory, MnemoError=MnemoError)
    sys.modules["mnemo_tool"] = client
    module = types.ModuleType("__tool__")
    module.__file__ = filename
    sys.modules["__tool__"] = module
    exec(compile(source, filename, "exec"), module.__dict__)
    function: Callable[..., Any] = getattr(module, str(request["function"]))
    return function


def _convert_enums(
    function: Callable[..., Any], args: dict[str, Any], enums: Mapping[str, str]
) -> dict[str, Any]:
    module = sys.modules["__tool__"]
    for name, class_name in enums.items():
        enum_class = getattr(module, class_name, None)
        if name in args and args[name] is not None and isinstance(enum_class, enum.EnumMeta):
            args[name] = enum_class(args[name])
    return args


def _serialise(value: Any, cap: int) -> str:
    if isinstance(value, str):
        text = value
    else:
        try:
            text = json.dumps(value, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise _BadResult(
                f"the tool returned a value of type {type(value).__name__}, which is not JSON "
                f"({exc}); "
                "return a str, number, bool, None, list or dict"
            ) from exc
    if len(text) > cap:
        raise _BadResult(
            f"the tool returned {len(text)} characters, more than the limit of {cap}; return less"
        )
    return text


class _BadResult(Exception):
    pass


def _describe(exc: BaseException, memory_bytes: int, filename: str) -> str:
    if isinstance(exc, MemoryError):
        return f"the tool ran out of memory (limit {memory_bytes // 2**20} MB)"
    if isinstance(exc, SystemExit):
        return f"the tool called sys.exit({exc.code!r}) instead of returning a value"
    if isinstance(exc, _BadResult):
        return str(exc)
    # Only the tool's own frames help its author; the sandbox's are noise.
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == filename]
    summary = "".join(traceback.format_exception_only(exc)).strip()
    return f"the tool raised {summary}\n" + "".join(traceback.format_list(frames[-4:])).rstrip()


def main() -> None:
    channel = _Channel(os.fdopen(os.dup(0), "rb"), os.fdopen(os.dup(1), "wb"))
    os.dup2(2, 1)  # the tool's prints, C-level included, go to the capped stderr pipe
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    request = channel.receive()
    try:
        isolation = _confine(request)
    except OSError as exc:
        channel.send({"t": "error", "message": f"the sandbox could not be set up: {exc}"})
        os._exit(1)
    _install_audit_hook(os.getcwd(), block_network=bool(request.get("isolate_network")))
    channel.send({"t": "ready", **isolation})
    memory_bytes = int(request["limits"]["memory_bytes"])
    filename = str(request["filename"])
    try:
        function = _load_function(request, Memory(channel))
        args = _convert_enums(function, dict(request["args"]), request.get("enums") or {})
        value = function(**args)
        if inspect.iscoroutine(value):
            value = asyncio.run(value)
        reply = {"t": "return", "value": _serialise(value, int(request["result_chars"]))}
    except BaseException as exc:
        reply = {"t": "error", "message": _describe(exc, memory_bytes, filename)}
    sys.stdout.flush()
    sys.stderr.flush()
    channel.send(reply)
    os._exit(0)  # threads the tool left running must not keep the process alive


if __name__ == "__main__":
    main()
