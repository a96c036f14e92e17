"""Text from files and users that reaches a terminal or a table: what is refused, and how
what is already stored is shown.

A patient id, a display name or a status from an imported file could carry terminal escape
codes (ESC [ ... : colours, cursor moves, a rewritten screen), tabs or newlines (a list
that no longer lines up) or invisible bidirectional controls (text that reads backwards).
New text with such characters is refused where it comes in (`bad_char`, `patient_id_problem`);
text stored by an older version is shown escaped (`printable`). Core (no Qt).
"""

from __future__ import annotations

import unicodedata

PATIENT_ID_MAX = 64
# Unicode categories never allowed in a one-line text: controls (C0, DEL, C1: ESC, tab,
# newline, ...), format characters (bidirectional overrides, zero-width), line and
# paragraph separators, surrogates.
BAD_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})


def bad_char(text: str, allow: str = "") -> str | None:
    """The first character of `text` a terminal or table could misread, else None."""
    for ch in text:
        if ch not in allow and unicodedata.category(ch) in BAD_CATEGORIES:
            return ch
    return None


def describe_char(ch: str) -> str:
    """'U+001B (ESC)' style: how to name a character that must not be printed."""
    name = {"\t": "tab", "\n": "newline", "\r": "carriage return", "\x1b": "ESC, a terminal "
            "escape code"}.get(ch) or unicodedata.name(ch, "a control character").lower()
    return f"U+{ord(ch):04X} ({name})"


def patient_id_problem(value: object) -> str | None:
    """Why `value` cannot be a patient id, or None when it can."""
    if not isinstance(value, str):
        return "must be text"
    if not value.strip():
        return "is empty"
    if len(value) > PATIENT_ID_MAX:
        return f"is {len(value)} characters long, at most {PATIENT_ID_MAX} are allowed"
    if value != value.strip():
        return "starts or ends with a space"
    ch = bad_char(value)
    if ch is not None:
        return f"contains {describe_char(ch)}"
    return None


def printable(value: object) -> str:
    """`value` as text safe to print on one terminal line: characters of BAD_CATEGORIES
    (and any other non-printable one) appear as Python escapes (\\x1b, \\t, \\u202e)."""
    text = "" if value is None else str(value)
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() or ch == " " else repr(ch)[1:-1] for ch in text)
