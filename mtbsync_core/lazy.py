"""Public names that load from their modules on first use (PEP 562), for the packages that
offer many names but must import fast (the CLI answers ``--help`` before numpy is loaded)."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable
from typing import Any


def lazy_exports(
    package: str, table: dict[str, str], names: Iterable[str] | None = None
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package``: each name in ``table`` is imported from the
    submodule it maps to (relative to ``package``) on first use and kept in the package.
    ``names`` is what ``dir()`` lists (default: the table's names)."""
    listed = sorted(table if names is None else names)

    def __getattr__(name: str) -> Any:
        module = table.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f".{module}", package), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return listed

    return __getattr__, __dir__
