"""One string field read out of a JSON object while the object is still arriving.

A model streams a tool call's arguments as JSON text in arbitrary pieces (a piece may end
inside a key, inside an escape, between the halves of a surrogate pair). ``StringFieldReader``
is fed those pieces and returns, each time, the newly decoded characters of one top-level
string field, so a reply can be shown while the model writes it.
"""

from __future__ import annotations

_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


class StringFieldReader:
    """Decodes the string value of ``field`` in a top-level JSON object, piece by piece."""

    def __init__(self, field: str) -> None:
        self._field = field
        self._depth = 0
        self._in_string = False
        #: What the string being read is: "key", "target" (the field's value) or "other".
        self._string_role = "other"
        self._expect_key = False
        self._key: list[str] = []
        self._last_key = ""
        self._escape: str | None = None
        self._high_surrogate: int | None = None
        self._done = False

    @property
    def done(self) -> bool:
        """Whether the field's value has been read whole."""
        return self._done

    def feed(self, piece: str) -> str:
        """The field's characters decoded from ``piece`` (empty when none)."""
        out: list[str] = []
        for char in piece:
            if self._done:
                break
            if self._in_string:
                self._string_char(char, out)
            else:
                self._structure_char(char)
        return "".join(out)

    def _structure_char(self, char: str) -> None:
        if char == '"':
            self._in_string = True
            if self._depth == 1 and self._expect_key:
                self._string_role = "key"
                self._key = []
            elif self._depth == 1 and self._last_key == self._field:
                self._string_role = "target"
            else:
                self._string_role = "other"
        elif char in "{[":
            self._depth += 1
            self._expect_key = char == "{" and self._depth == 1
        elif char in "}]":
            self._depth -= 1
        elif char == "," and self._depth == 1:
            self._expect_key = True
            self._last_key = ""
        elif char == ":" and self._depth == 1:
            self._expect_key = False

    def _string_char(self, char: str, out: list[str]) -> None:
        if self._escape is not None:
            self._escape_char(char, out)
            return
        if char == "\\":
            self._escape = ""
        elif char == '"':
            self._in_string = False
            if self._string_role == "key":
                self._last_key = "".join(self._key)
            elif self._string_role == "target":
                self._done = True
        else:
            self._emit(char, out)

    def _escape_char(self, char: str, out: list[str]) -> None:
        assert self._escape is not None
        self._escape += char
        if self._escape[0] != "u":
            self._escape, decoded = None, _ESCAPES.get(char, char)
            self._emit(decoded, out)
            return
        if len(self._escape) < 5:
            return  # \uXXXX not complete yet
        try:
            code = int(self._escape[1:], 16)
        except ValueError:
            code = 0xFFFD  # not JSON; the whole arguments are checked when the call ends
        self._escape = None
        if 0xD800 <= code < 0xDC00:
            self._high_surrogate = code
            return
        if 0xDC00 <= code < 0xE000 and self._high_surrogate is not None:
            code = 0x10000 + ((self._high_surrogate - 0xD800) << 10) + (code - 0xDC00)
        self._high_surrogate = None
        self._emit(chr(code), out)

    def _emit(self, char: str, out: list[str]) -> None:
        if self._string_role == "key":
            self._key.append(char)
        elif self._string_role == "target":
            out.append(char)
