"""Component parameters on the command line: ``NAME[@LABEL][:KEY=VALUE,...]``.

One syntax for ``--methods``, ``--datasets``, ``--metrics`` and ``--aggregate``::

    --methods 'sbert-cosine:model=all-mpnet-base-v2,batch_size=64,tfidf-cosine'
    --methods 'sbert-cosine@short:max_seq_length=64,sbert-cosine@long:max_seq_length=256'
    --aggregate 'mean,power:p=2'

- Components are separated by commas. A comma-separated piece of the form ``KEY=VALUE`` (``KEY``
  an identifier) continues the parameters of the component before it; any other piece starts a
  new component. Parameters may also be chained with ``:`` (``power:p=2:nonpositive=skip``).
- ``VALUE`` is read as a TOML value (the syntax of suite files): ``64`` is an integer, ``0.5`` and
  ``1e-3`` floats, ``true``/``false`` booleans, ``"a,b"`` or ``'a:b'`` a quoted string,
  ``[1, 2]`` an array. A bare word that is not valid TOML (``all-MiniLM-L6-v2``, ``/models/x``)
  is a string, and ``none`` is Python's ``None`` (TOML has no null). Commas inside quotes or
  brackets do not separate.
- ``@LABEL`` names the component in tables, so that two configurations of one method can be
  compared side by side. Without it the label is the spec as written
  (``sbert-cosine:max_seq_length=64``), or the bare name when there are no parameters.

:func:`check_params` validates parameters against the factory's ``__init__`` signature: unknown
names get did-you-mean suggestions, values whose type contradicts the annotation are rejected.
Both raise :class:`~evalkit.errors.ConfigError` naming the component and the parameter (exit 2).
"""

from __future__ import annotations

import difflib
import inspect
import re
import sys
import typing
from dataclasses import dataclass, field
from typing import Any

from evalkit.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

_KEY = r"[A-Za-z_][A-Za-z0-9_]*"
_PARAM_RE = re.compile(rf"^\s*({_KEY})\s*=(.*)$", re.S)
#: A ``:`` that starts another ``KEY=`` (so ``C:/x`` or ``http://h:80`` in a value stays whole).
_COLON_PARAM = re.compile(rf":(?=\s*{_KEY}\s*=)")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


@dataclass(frozen=True)
class ParsedSpec:
    """One component from the command line: registry ``name``, table ``label``, ``params``."""

    name: str
    label: str
    params: dict[str, Any] = field(default_factory=dict)
    text: str = ""


def split_top_level(text: str, sep: str = ",") -> list[str]:
    """``text`` split on ``sep`` outside quotes and ``[]``/``{}`` brackets (pieces unstripped).

    Raises:
        ConfigError: an unterminated quote or unbalanced bracket.
    """
    pieces: list[str] = []
    depth, quote, start = 0, "", 0
    for i, ch in enumerate(text):
        if quote:
            if ch == quote and not (quote == '"' and text[i - 1] == "\\"):
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
            if depth < 0:
                raise ConfigError(f"{text!r}: unbalanced {ch!r} at character {i + 1}")
        elif ch == sep and depth == 0:
            pieces.append(text[start:i])
            start = i + 1
    if quote:
        raise ConfigError(f"{text!r}: unterminated {quote} quote")
    if depth:
        raise ConfigError(f"{text!r}: unbalanced brackets")
    pieces.append(text[start:])
    return pieces


def parse_value(text: str, *, key: str = "value") -> Any:
    """A parameter value as TOML reads it; a bare word that is not TOML is a string.

    ``none`` gives ``None``. Dates and times are kept as the text written.

    Raises:
        ConfigError: an empty value, or malformed TOML that is clearly not a bare word (a quote or
            bracket in it), naming ``key``.
    """
    raw = text.strip()
    if not raw:
        raise ConfigError(f"parameter {key!r} has no value (write {key}=VALUE; none for None)")
    if raw == "none":
        return None
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError as exc:
        if raw[0] in "\"'[{":
            raise ConfigError(f"parameter {key!r}: {raw!r} is not a valid TOML value ({exc})") from None
        return raw
    if isinstance(value, dict) or type(value).__module__ == "datetime":
        return raw
    return value


def split_specs(text: str | None) -> list[str] | None:
    """The comma-separated component specs of an option, continuation pieces joined to their
    component: ``"a:x=1,y=2,b"`` -> ``["a:x=1,y=2", "b"]``. ``None``/blank -> ``None``.

    Raises:
        ConfigError: a ``KEY=VALUE`` piece before any component, unbalanced quotes/brackets.
    """
    if not text or not text.strip():
        return None
    specs: list[str] = []
    for piece in split_top_level(text):
        if not piece.strip():
            continue
        if _PARAM_RE.match(piece):
            if not specs:
                raise ConfigError(
                    f"{text!r}: parameter {piece.strip()!r} comes before any component name "
                    "(write NAME:KEY=VALUE, e.g. sbert-cosine:batch_size=64)"
                )
            if ":" not in specs[-1]:
                raise ConfigError(
                    f"{text!r}: parameter {piece.strip()!r} follows {specs[-1]!r}, which has no ':' "
                    f"(write {specs[-1]}:{piece.strip()})"
                )
            specs[-1] += "," + piece.strip()
        else:
            specs.append(piece.strip())
    return specs or None


def parse_spec(text: str) -> ParsedSpec:
    """``"name@label:k=v,k2=v2"`` -> :class:`ParsedSpec`; see the module docstring.

    Raises:
        ConfigError: an empty or malformed name, a parameter that is not ``KEY=VALUE``, a
            parameter given twice.
    """
    spec = text.strip()
    head, sep, rest = spec.partition(":")
    name, at, label = head.partition("@")
    name, label = name.strip(), label.strip()
    if not name or not _NAME_RE.match(name):
        raise ConfigError(f"{spec!r}: expected NAME[@LABEL][:KEY=VALUE,...], e.g. 'sbert-cosine:batch_size=64'")
    if at and not label:
        raise ConfigError(f"{spec!r}: empty label after '@'")
    params: dict[str, Any] = {}
    if sep:
        pieces = [p for chunk in split_top_level(rest) for p in _COLON_PARAM.split(chunk)]
        for piece in pieces:
            m = _PARAM_RE.match(piece)
            if not m:
                raise ConfigError(
                    f"{spec!r}: parameter {piece.strip()!r} is not KEY=VALUE (e.g. 'sbert-cosine:batch_size=64')"
                )
            key = m.group(1)
            if key in params:
                raise ConfigError(f"{spec!r}: parameter {key!r} is given twice")
            params[key] = parse_value(m.group(2), key=key)
    auto = name if not params else f"{name}:{rest.strip()}"
    return ParsedSpec(name, label or auto, params, spec)


def parse_specs(text: str | None) -> list[ParsedSpec] | None:
    """:func:`split_specs` then :func:`parse_spec` on each; duplicate labels are an error."""
    specs = split_specs(text)
    if specs is None:
        return None
    out = [parse_spec(s) for s in specs]
    labels = [p.label for p in out]
    dupes = sorted({lab for lab in labels if labels.count(lab) > 1})
    if dupes:
        raise ConfigError(
            f"{text!r}: {', '.join(map(repr, dupes))} listed twice; give each configuration its own "
            "label with NAME@LABEL:KEY=VALUE"
        )
    return out


# ------------------------------------------------------------------------------------------------
# Validation against the factory's signature
# ------------------------------------------------------------------------------------------------
def accepted_parameters(factory: Any) -> dict[str, inspect.Parameter] | None:
    """Keyword parameters of ``factory`` (``None`` when it takes ``**kwargs`` or has no signature)."""
    try:
        sig = inspect.signature(factory)
    except (TypeError, ValueError):
        return None
    if any(p.kind == p.VAR_KEYWORD for p in sig.parameters.values()):
        return None
    return {n: p for n, p in sig.parameters.items()
            if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD) and n != "self"}


def type_hints(factory: Any) -> dict[str, Any]:
    """Resolved annotations of ``factory``'s ``__init__`` (a class) or of the callable; ``{}`` if
    they cannot be resolved."""
    target = factory.__init__ if inspect.isclass(factory) else factory
    try:
        return typing.get_type_hints(target)
    except Exception:
        return {}


def _matches(value: Any, hint: Any) -> bool | None:
    """Whether ``value`` fits ``hint``; ``None`` when the hint is beyond this simple check."""
    if hint is Any:
        return True
    origin = typing.get_origin(hint)
    if origin is typing.Union or type(hint).__name__ == "UnionType":
        results = [_matches(value, h) for h in typing.get_args(hint)]
        return True if any(r is True for r in results) else (None if None in results else False)
    if origin is typing.Literal:
        return value in typing.get_args(hint)
    if hint is type(None):
        return value is None
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint in (str, bool):
        return isinstance(value, hint)
    if origin in (list, tuple) or hint in (list, tuple):
        return isinstance(value, (list, tuple))
    return None


def type_name(hint: Any) -> str:
    """``int``, ``str | None``, ``list[int]``: the annotation as users read it."""
    if hint is type(None):
        return "None"
    if isinstance(hint, type) and not typing.get_args(hint):
        return hint.__name__
    text = str(hint).replace("typing.", "")
    return re.sub(r"Optional\[(.*)\]", r"\1 | None", text)


def check_params(
    kind: str, name: str, factory: Any, params: dict[str, Any], *, types: bool = True, plugin: str = ""
) -> None:
    """Reject parameters ``factory`` does not take (with did-you-mean) and, with ``types``, values
    whose type contradicts the annotation (checked for ``int``, ``float``, ``bool``, ``str``,
    ``None``, lists, ``Literal`` and unions of these; other annotations are not checked).

    Raises:
        ConfigError: naming the component, the parameter and what it accepts.
    """
    accepted = accepted_parameters(factory)
    if accepted is None:
        return
    hints = type_hints(factory) if types else {}
    for key, value in params.items():
        if key not in accepted:
            close = difflib.get_close_matches(key, accepted, n=3, cutoff=0.6)
            hint = f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
            owner = f" (plugin {plugin!r})" if plugin else ""
            raise ConfigError(
                f"{kind} {name!r}{owner} has no parameter {key!r}.{hint} Accepted: {', '.join(accepted) or '(none)'}; "
                f"see 'evalkit list {kind}s --params'."
            )
        if key in hints and _matches(value, hints[key]) is False:
            raise ConfigError(
                f"{kind} {name!r}: parameter {key!r} expects {type_name(hints[key])}, got {value!r} "
                f"({type(value).__name__})"
            )
