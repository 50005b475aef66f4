"""TOML from strangers (a job's `hivemind.toml`), parsed with a bound on nesting.

`tomllib` recurses once per level of nested arrays and inline tables, so a few kilobytes of
`a = [[[[...` end in RecursionError; and dotted keys (`a.a.a.a... = 1`) parse into a chain of
tables thousands deep that breaks whatever walks it next (repr, json, a comparison) and costs
far more memory than its text. Both are refused here with one clear line.
"""

from __future__ import annotations

import tomllib
from typing import Any

MAX_DEPTH = 32  # tables and arrays within each other; a real manifest uses two or three


class TomlError(ValueError):
    """Not valid TOML, or nested deeper than allowed; the message is one line."""


def loads(text: str, max_depth: int = MAX_DEPTH) -> dict[str, Any]:
    """The document, or TomlError saying why not."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise TomlError(f"not valid TOML ({error})") from None
    except RecursionError:
        raise TomlError(f"nested more than {max_depth} levels deep") from None
    if depth(document, max_depth) > max_depth:
        raise TomlError(f"nested more than {max_depth} levels deep")
    return document


def depth(value: Any, stop_above: int) -> int:
    """How deep tables and arrays nest in `value` (a scalar is 0), counted without recursion
    and only up to `stop_above + 1`."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        level += 1
        deepest = max(deepest, level)
        if deepest > stop_above:
            return deepest
        stack.extend((child, level) for child in children)
    return deepest
