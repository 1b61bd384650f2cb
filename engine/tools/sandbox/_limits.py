"""What one sandboxed tool call may use."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SandboxLimits:
    """Bounds of one call; the defaults suit small tools (lookups, text work, arithmetic)."""

    #: Wall-clock seconds from start to result, memory calls included; then the process
    #: group is killed.
    wall_seconds: float = 10.0
    #: CPU seconds (RLIMIT_CPU).
    cpu_seconds: int = 10
    #: Address space (RLIMIT_AS); the interpreter itself takes about 30 MB of it.
    memory_bytes: int = 256 * 2**20
    #: Largest file the tool may write in its scratch directory (RLIMIT_FSIZE).
    file_bytes: int = 16 * 2**20
    #: Characters of the return value; a bigger result is an error the agent can fix.
    result_chars: int = 64_000
    #: Bytes of printed output kept for logs and error reports; the rest is counted, not kept.
    kept_output_bytes: int = 16_000
    #: Printed bytes after which the call is stopped (a runaway print loop).
    max_output_bytes: int = 32 * 2**20
    #: Cut the tool off from the network (a new network namespace where permitted).
    block_network: bool = True
