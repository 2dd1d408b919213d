# -*- test-case-name: tests.test_config -*-
"""One-line messages, with their line numbers, for what configparser refuses in a file."""

from __future__ import annotations

import configparser


def syntax_problem(e: configparser.Error, source: str, text: str) -> tuple[str, int | None]:
    """The message and line number (if known) of C{e}, raised reading C{text} from C{source}."""
    if isinstance(e, configparser.MissingSectionHeaderError):
        what = f"{e.line.strip()!r} comes before any [section] header"
        return f"{what} ({source})", e.lineno
    if isinstance(e, configparser.DuplicateSectionError) and e.lineno is not None:
        return f"section [{e.section}] appears twice ({source})", e.lineno
    if isinstance(e, configparser.DuplicateOptionError) and e.lineno is not None:
        what = f"key {e.option!r} appears twice in [{e.section}]"
        return f"{what} ({source})", e.lineno
    if isinstance(e, configparser.ParsingError) and e.errors:
        lineno = e.errors[0][0]
        lines = text.splitlines()
        line = lines[lineno - 1].strip() if 0 < lineno <= len(lines) else ""
        return f"{line!r} is not 'key = value' ({source})", lineno
    return f"{source}: {' '.join(str(e).split())}", None
