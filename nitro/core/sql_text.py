"""SQL text, read the way the database reads it: ``?`` placeholders converted to a
driver's style, and scripts split into statements, both leaving string literals,
quoted identifiers and comments alone."""

from __future__ import annotations

import re
from collections.abc import Iterator

__all__ = ["convert_placeholders", "split_statements"]


def _scan(sql: str, dialect: str) -> Iterator[tuple[bool, str]]:
    """Split `sql` into (is_code, text) chunks: string literals, quoted identifiers,
    comments and (PostgreSQL) dollar-quoted strings are not code."""
    dollar_quotes = dialect == "postgresql"
    backslash_escapes = dialect == "mysql"  # standard SQL (PostgreSQL, SQLite): no escapes
    i, n, start = 0, len(sql), 0
    while i < n:
        ch = sql[i]
        end = -1
        if ch in ("'", '"', "`"):
            end = _quote_end(sql, i, ch, backslash_escapes)
        elif sql.startswith("--", i):
            newline = sql.find("\n", i)
            end = n if newline == -1 else newline
        elif sql.startswith("/*", i):
            close = sql.find("*/", i + 2)
            end = n if close == -1 else close + 2
        elif ch == "$" and dollar_quotes and (tag := _DOLLAR.match(sql, i)):
            close = sql.find(tag.group(0), tag.end())
            end = n if close == -1 else close + len(tag.group(0))
        if end == -1:
            i += 1
            continue
        if i > start:
            yield True, sql[start:i]
        yield False, sql[i:end]
        i = start = end
    if start < n:
        yield True, sql[start:]


def _quote_end(sql: str, start: int, quote: str, backslash_escapes: bool) -> int:
    i = start + 1
    while i < len(sql):
        if sql[i] == quote:
            if i + 1 < len(sql) and sql[i + 1] == quote:  # doubled quote: an escaped one
                i += 2
                continue
            return i + 1
        if backslash_escapes and sql[i] == "\\" and quote != '"':
            i += 2
            continue
        i += 1
    return len(sql)


_DOLLAR = re.compile(r"\$[A-Za-z_]*\$")


def convert_placeholders(sql: str, style: str, *, dialect: str = "") -> str:
    """``?`` outside literals and comments -> the driver's placeholders.

    ``format`` style (``%s``) also doubles every literal ``%``, as those drivers expect.
    """
    if style == "qmark":
        return sql
    out: list[str] = []
    count = 0
    for is_code, chunk in _scan(sql, dialect):
        if style == "format":
            chunk = chunk.replace("%", "%%")
        if is_code and "?" in chunk:
            parts = chunk.split("?")
            rebuilt = [parts[0]]
            for part in parts[1:]:
                count += 1
                rebuilt.append("%s" if style == "format" else f"${count}")
                rebuilt.append(part)
            chunk = "".join(rebuilt)
        out.append(chunk)
    return "".join(out)


def split_statements(script: str, *, dialect: str = "") -> list[str]:
    """A script's statements, split at ``;`` outside literals and comments."""
    statements: list[str] = []
    current: list[str] = []
    for is_code, chunk in _scan(script, dialect):
        if not is_code:
            current.append(chunk)
            continue
        pieces = chunk.split(";")
        current.append(pieces[0])
        for piece in pieces[1:]:
            statements.append("".join(current))
            current = [piece]
    statements.append("".join(current))
    return [s.strip() for s in statements if s.strip() and not _only_comments(s)]


def _only_comments(statement: str) -> bool:
    return all(not is_code or not chunk.strip() for is_code, chunk in _scan(statement, ""))
