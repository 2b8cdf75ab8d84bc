"""The machinery of the conformance checks: :class:`Check`, outcomes, and the checks every kind shares."""

from __future__ import annotations

import contextlib
import inspect
import json
import math
import os
import pickle
import re
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from evalkit.errors import EvalkitError
from evalkit.interfaces import Aggregator, Component, Dataset, Method, Metric, Reporter
from evalkit.registry import KINDS, Entry

KIND_BASES: dict[str, type] = {
    "metric": Metric, "method": Method, "dataset": Dataset, "aggregator": Aggregator, "reporter": Reporter,
}
#: The public methods of each kind whose signatures are checked (beside ``__init__``).
KIND_METHODS: dict[str, tuple[str, ...]] = {
    "metric": ("compute", "per_example"),
    "method": ("fit", "predict"),
    "dataset": ("files", "load"),
    "aggregator": ("aggregate",),
    "reporter": ("render",),
}
_SLUG = re.compile(r"^[a-z0-9][a-z0-9_.\-]*$")


class CheckSkipped(Exception):
    """A check does not apply to this component (e.g. its data files are not available)."""


class ConformanceError(AssertionError):
    """Raised by ``check_<kind>`` when checks fail; :attr:`outcomes` holds every check's outcome."""

    def __init__(self, component: str, outcomes: list[CheckOutcome]) -> None:
        self.component = component
        self.outcomes = outcomes
        bad = [o for o in outcomes if o.status in ("failed", "xpassed")]
        lines = [f"{component} fails {len(bad)} conformance check(s):"]
        lines += [f"- {o.name}: {o.message}" for o in bad]
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class CheckOutcome:
    """What one check said about one component: passed, failed, skipped, xfailed or xpassed."""

    name: str
    status: str
    message: str = ""


@dataclass(frozen=True)
class Check:
    """One conformance check of one component kind; call it with a component (or registry entry).

    Attributes:
        name: short name used in test ids and ``expected_failures`` (``"deterministic"``).
        kind: the component kind it applies to.
        func: the function doing the work; it raises ``AssertionError`` on failure and
            :class:`CheckSkipped` when it does not apply.
    """

    name: str
    kind: str
    func: Callable[[Any], None]

    @property
    def description(self) -> str:
        """The first line of the check function's docstring."""
        doc = inspect.getdoc(self.func) or ""
        return doc.splitlines()[0] if doc else ""

    def __call__(self, component: Any) -> None:
        """Run the check; under pytest a :class:`CheckSkipped` becomes a skip with its reason."""
        try:
            with isolated_cache():
                self.func(resolve(component))
        except CheckSkipped as exc:
            pytest = sys.modules.get("pytest")
            if pytest is None:
                raise
            pytest.skip(str(exc))

    def __repr__(self) -> str:
        return f"<evalkit check {self.kind}:{self.name}>"


CHECKS: dict[str, list[Check]] = {k: [] for k in KINDS}


def check(*kinds: str) -> Callable[[Callable[[Any], None]], Callable[[Any], None]]:
    """Decorator adding a ``check_<name>`` function to the checks of ``kinds``."""

    def deco(func: Callable[[Any], None]) -> Callable[[Any], None]:
        name = func.__name__.removeprefix("check_")
        for kind in kinds:
            CHECKS[kind].append(Check(name, kind, func))
        return func

    return deco


# -- components -------------------------------------------------------------------------------------
def kind_of(component: Any) -> str:
    """The kind of a component instance or registry entry.

    Raises:
        TypeError: a class instead of an instance, or an object of no evalkit kind.
    """
    if isinstance(component, Entry):
        return component.kind
    if isinstance(component, type):
        raise TypeError(
            f"pass a component instance, not the class {component.__name__}: e.g. "
            f"{component.__name__}() or {component.__name__}(param=...)"
        )
    for kind, base in KIND_BASES.items():
        if isinstance(component, base):
            return kind
    raise TypeError(
        f"{component!r} is not an evalkit component: subclass one of "
        f"{', '.join('evalkit.' + b.__name__ for b in KIND_BASES.values())}"
    )


def resolve(component: Any) -> Any:
    """A component instance: registry entries are created with their preset parameters."""
    return component.create() if isinstance(component, Entry) else component


def component_id(component: Any) -> str:
    """``kind:name`` for test ids and messages (a preset's registered name when there is one)."""
    kind = kind_of(component)
    if isinstance(component, Entry):
        return f"{kind}:{component.name}"
    name = getattr(component, "registered_name", "") or getattr(component, "name", "") or type(component).__name__
    return f"{kind}:{name}"


@contextlib.contextmanager
def isolated_cache() -> Iterator[None]:
    """Run a check with encoder outputs kept in memory only (nothing written to disk).

    Components used outside a run read :func:`evalkit.encoding.default_encoder_outputs`; within
    the block that is one in-memory context shared by all checks of a process, so an encoder
    encodes the sample sentences once; the ``deterministic`` checks use fresh ones of their own.
    """
    from evalkit.encoding import EncoderOutputs, use_default_encoder_outputs

    if not _SHARED:
        _SHARED.append(EncoderOutputs())
    with use_default_encoder_outputs(_SHARED[0]):
        yield


_SHARED: list[Any] = []


@contextlib.contextmanager
def fresh_cache() -> Iterator[None]:
    """New in-memory encoder outputs for the block (so encoders really run again)."""
    from evalkit.encoding import EncoderOutputs, use_default_encoder_outputs

    with use_default_encoder_outputs(EncoderOutputs()):
        yield


@contextlib.contextmanager
def offline_empty_data() -> Iterator[str]:
    """An empty data folder, with downloads off and an empty user cache, for missing-file checks."""
    saved = {k: os.environ.get(k) for k in ("EVALKIT_OFFLINE", "EVALKIT_CACHE_DIR")}
    with tempfile.TemporaryDirectory(prefix="evalkit-check-") as tmp:
        os.environ["EVALKIT_OFFLINE"] = "1"
        os.environ["EVALKIT_CACHE_DIR"] = os.path.join(tmp, "cache")
        try:
            yield os.path.join(tmp, "data")
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


@contextlib.contextmanager
def expect_evalkit_error(situation: str) -> Iterator[None]:
    """Assert that the block raises an :class:`EvalkitError` (not another exception, not nothing)."""
    try:
        yield
    except EvalkitError:
        return
    except Exception as exc:
        raise AssertionError(
            f"{situation}: raised {type(exc).__name__}: {exc}. It should raise an evalkit error "
            "(an evalkit.EvalkitError subclass such as DataError or ConfigError) whose message says "
            "what is wrong, so that the CLI shows a message instead of a traceback."
        ) from exc
    raise AssertionError(f"{situation}: no error was raised; it should raise an evalkit error "
                         "(e.g. evalkit.DataError) naming the problem.")


def describe_exception(exc: BaseException) -> str:
    """``Type: message`` plus the innermost frame, for failure messages of crashed checks."""
    tb = traceback.extract_tb(exc.__traceback__)
    where = f" (at {tb[-1].filename}:{tb[-1].lineno})" if tb else ""
    return f"{type(exc).__name__}: {exc}{where}"


def init_parameters(cls: type) -> list[inspect.Parameter]:
    """The parameters of ``cls.__init__`` without ``self`` (none for ``object.__init__``)."""
    init = vars(object)["__init__"]
    for klass in cls.__mro__:  # the first class that defines __init__
        if "__init__" in vars(klass):
            init = vars(klass)["__init__"]
            break
    if init is vars(object)["__init__"]:
        return []
    return [p for p in inspect.signature(init).parameters.values() if p.name != "self"]


def values_equal(a: Any, b: Any) -> bool:
    """Equality that also works for numpy arrays, pandas objects, NaN and nested containers."""
    import numpy as np

    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(values_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(values_equal(x, y) for x, y in zip(a, b, strict=True))
    if hasattr(a, "equals") and hasattr(b, "equals"):
        return bool(a.equals(b))
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        nan_ok = a.dtype.kind == "f" and b.dtype.kind == "f"
        return a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=nan_ok))
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return bool(a == b)


def roundtrip(component: Any) -> Any:
    """``pickle.loads(pickle.dumps(component))``, failing with a clear message."""
    try:
        return pickle.loads(pickle.dumps(component))
    except Exception as exc:
        raise AssertionError(
            f"the component does not pickle ({describe_exception(exc)}); parallel backends and "
            "saved runs need it: keep unpicklable state (models, locks, open files) out of the "
            "instance or rebuild it lazily"
        ) from exc


# -- checks shared by every kind --------------------------------------------------------------------
def common_metadata(component: Any) -> None:
    """Name, docstring and base class, the metadata every component needs."""
    kind = kind_of(component)
    cls = type(component)
    name = getattr(component, "name", None)
    assert isinstance(name, str) and _SLUG.match(name), (
        f"{cls.__name__}.name must be a lowercase slug such as 'wmd' or 'auto_threshold_f1', got {name!r}"
    )
    doc = (inspect.getdoc(cls) or "").strip()
    base_doc = (inspect.getdoc(KIND_BASES[kind]) or "").strip()
    assert doc and doc != base_doc, (
        f"{cls.__name__} needs a docstring: its first line is the description 'evalkit list' shows"
    )
    repr(component)


@check(*KINDS)
def check_signatures(component: Any) -> None:
    """No ``*args``/``**kwargs`` in ``__init__`` or the kind's methods; parameters are keywords."""
    kind = kind_of(component)
    cls = type(component)
    for p in init_parameters(cls):
        assert p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD), (
            f"{cls.__name__}.__init__ has {p.kind.description} parameter {p}: components are built "
            "from keyword parameters (suite files, presets), so every parameter must be a named keyword "
            "and a typo must be an error, not swallowed by **kwargs"
        )
    for meth in KIND_METHODS[kind]:
        sig = inspect.signature(getattr(cls, meth))
        for p in sig.parameters.values():
            assert p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL), (
                f"{cls.__name__}.{meth}{sig} accepts {p}: list the parameters explicitly so that a "
                "misspelled argument is an error"
            )


@check(*KINDS)
def check_get_params(component: Any) -> None:
    """``get_params()`` names every ``__init__`` parameter, is JSON-serialisable and round-trips."""
    cls = type(component)
    params = component.get_params()
    assert isinstance(params, dict), f"get_params() returned {type(params).__name__}, not a dict"
    expected = {p.name for p in init_parameters(cls)}
    assert set(params) == expected, (
        f"get_params() returned keys {sorted(params)} but __init__ takes {sorted(expected)}: store "
        "each __init__ argument unchanged on an attribute of the same name (as scikit-learn does)"
    )
    if cls.get_params is Component.get_params:
        unstored = sorted(name for name in expected if not hasattr(component, name))
        assert not unstored, (
            f"__init__ does not store {unstored} on attributes of the same name, so get_params() "
            "reports their defaults instead of the values given"
        )
    try:
        json.dumps(params, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise AssertionError(
            f"get_params() is not JSON-serialisable ({exc}); parameters go into run provenance "
            "and cache keys, so use str/int/float/bool/None/lists/dicts"
        ) from None
    try:
        clone = cls(**params)
    except Exception as exc:
        raise AssertionError(f"{cls.__name__}(**get_params()) failed: {describe_exception(exc)}") from exc
    again = clone.get_params()
    assert values_equal(again, params), (
        f"{cls.__name__}(**get_params()).get_params() gives {again}, not {params}: __init__ must "
        "store its arguments unchanged (derive anything else in fit or lazily)"
    )
