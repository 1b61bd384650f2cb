"""Everything an agent can call: the tool type and its context (``base``), the built-in memory
tools (``builtin``), agent messaging (``messaging``), the rules that order calls (``rules``), and
operators' own Python tools (``custom``), which run only inside ``sandbox``."""
