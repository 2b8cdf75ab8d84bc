"""What ``evalkit list KIND --params`` shows: each parameter's type, default and description.

Types and defaults come from the factory's signature (``__init__`` for a class; a preset's bound
parameters replace the defaults). Descriptions come from the docstrings, in either of the two
conventions of the Python ecosystem:

- Google style (``Args:``, ``Arguments:``, ``Parameters:`` or ``Keyword Args:``, then
  ``name: text`` or ``name (type): text``, continuation lines indented further; ``a, b: text``
  documents several parameters at once);
- numpydoc (``Parameters`` underlined with dashes, then ``name : type`` with the text indented
  on the following lines).

The class docstring is read first, then ``__init__``'s, then those of the base classes (a
mixin documenting shared parameters serves every subclass); a parameter documented nowhere has an
empty description (``evalkit.testing`` conformance checks do not require one).
"""

from __future__ import annotations

import inspect
import re
from typing import Any

from evalkit.params import accepted_parameters, type_hints, type_name

_HEADERS = re.compile(r"^(Args|Arguments|Parameters|Params|Keyword Args|Keyword Arguments)\s*:?\s*$")
_GOOGLE_ITEM = re.compile(r"^([A-Za-z_*][\w*]*(?:\s*,\s*[A-Za-z_*][\w*]*)*)\s*(?:\(([^)]*)\))?\s*:\s*(.*)$")
_NUMPY_ITEM = re.compile(r"^([A-Za-z_*][\w*]*(?:\s*,\s*[A-Za-z_*][\w*]*)*)\s*(?::\s*(.*))?$")
_DASHES = re.compile(r"^\s*-{3,}\s*$")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _section(lines: list[str], start: int, numpy: bool) -> dict[str, str]:
    """Parse the items of a parameters section whose first item line is at or after ``start``."""
    out: dict[str, list[str]] = {}
    current: list[str] = []
    base = None
    item_re = _NUMPY_ITEM if numpy else _GOOGLE_ITEM
    for i in range(start, len(lines)):
        line = lines[i]
        if not line.strip():
            continue
        ind = _indent(line)
        if base is None:
            base = ind
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if ind < base or (numpy and _DASHES.match(nxt)):
            break
        if ind == base:
            m = item_re.match(line.strip())
            if not m:
                break
            current = []
            text = m.group(3) if not numpy else ""
            if text:
                current.append(text)
            for name in m.group(1).split(","):
                out[name.strip().lstrip("*")] = current
        else:
            current.append(line.strip())
    return {k: " ".join(v) for k, v in out.items()}


def docstring_params(doc: str | None) -> dict[str, str]:
    """``{parameter: description}`` from a Google-style or numpydoc docstring."""
    if not doc:
        return {}
    lines = inspect.cleandoc(doc).splitlines()
    found: dict[str, str] = {}
    for i, line in enumerate(lines):
        if not _HEADERS.match(line.strip()):
            continue
        numpy = i + 1 < len(lines) and bool(_DASHES.match(lines[i + 1])) and not line.strip().endswith(":")
        for name, text in _section(lines, i + (2 if numpy else 1), numpy).items():
            found.setdefault(name, text)
    return found


def documented(factory: Any) -> dict[str, str]:
    """Parameter descriptions of ``factory``: for a class, its docstring and its ``__init__``'s,
    then those of its base classes in method resolution order (the first non-empty one wins)."""
    owners = [c for c in inspect.getmro(factory) if c is not object] if inspect.isclass(factory) else [factory]
    docs: dict[str, str] = {}
    for owner in owners:
        init = owner.__dict__.get("__init__") if inspect.isclass(owner) else None
        for doc in (owner.__doc__, getattr(init, "__doc__", None)):
            for name, text in docstring_params(doc).items():
                if text and not docs.get(name):
                    docs[name] = text
    return docs


def parameter_table(factory: Any, preset: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """One record per keyword parameter: ``name``, ``type``, ``default``, ``required``,
    ``description`` (``preset`` values replace the signature's defaults)."""
    params = accepted_parameters(factory)
    if params is None:
        try:
            params = {n: p for n, p in inspect.signature(factory).parameters.items()
                      if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD) and n != "self"}
        except (TypeError, ValueError):
            return []
    hints = type_hints(factory)
    docs = documented(factory)
    preset = preset or {}
    rows = []
    for name, p in params.items():
        if name in hints:
            typ = type_name(hints[name])
        elif p.annotation is not p.empty:
            typ = str(p.annotation)
        else:
            typ = ""
        required = p.default is p.empty and name not in preset
        default = preset.get(name, None if p.default is p.empty else p.default)
        rows.append({"name": name, "type": typ, "default": default, "required": required,
                     "description": docs.get(name, "")})
    return rows
