"""Conformance checks for evalkit components, shipped for plugin authors.

Modelled on scikit-learn's ``check_estimator`` / ``parametrize_with_checks``: each component kind
has a list of checks (metadata, signatures, ``get_params`` round trip, determinism, order
invariance where declared, optimum of perfect predictions, evalkit errors for empty or malformed
input, finite JSON-serialisable results, pickling). Run them all at once::

    from evalkit.testing import check_metric
    check_metric(KendallTau())          # raises ConformanceError listing every failed check

or as one pytest item per component and check::

    from evalkit.testing import parametrize_with_checks

    @parametrize_with_checks([KendallTau(), Jaccard(lowercase=False)])
    def test_conformance(component, check):
        check(component)

A check that cannot apply (a dataset whose files are absent) is skipped with the reason. Checks
use tiny synthetic inputs from :mod:`evalkit.testing.samples`; methods get ten sentence pairs,
metrics the scores or texts of the task types they declare. ``check_names(kind)`` lists the checks
(``evalkit.testing.CHECKS[kind]`` holds them with their descriptions).

:func:`check_public_imports` asserts that a plugin imports only evalkit's public modules
(:data:`PUBLIC_MODULES`), lazy imports included.

The pytest fixtures ``evalkit_host``, ``evalkit_plugin`` and ``evalkit_cli`` come from
:mod:`evalkit.testing.pytest_plugin`, which pytest loads automatically (entry point ``pytest11``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from evalkit.registry import KINDS
from evalkit.testing import _aggregators, _datasets, _methods, _metrics, _reporters  # noqa: F401 (add checks)
from evalkit.testing._base import (
    CHECKS,
    Check,
    CheckOutcome,
    CheckSkipped,
    ConformanceError,
    component_id,
    describe_exception,
    isolated_cache,
    kind_of,
    resolve,
)
from evalkit.testing._imports import PUBLIC_MODULES, InternalImport, check_public_imports, internal_imports

for _checks in CHECKS.values():  # metadata first, then the order the modules define
    _checks.sort(key=lambda c: c.name != "metadata")

ExpectedFailures = Mapping[str, str] | Callable[[Any], Mapping[str, str]] | None

__all__ = [
    "CHECKS",
    "PUBLIC_MODULES",
    "Check",
    "CheckOutcome",
    "CheckSkipped",
    "ConformanceError",
    "InternalImport",
    "check_aggregator",
    "check_component",
    "check_dataset",
    "check_method",
    "check_metric",
    "check_names",
    "check_public_imports",
    "check_reporter",
    "checks_for",
    "internal_imports",
    "parametrize_with_checks",
]


def check_names(kind: str) -> list[str]:
    """The names of the checks of one kind (``metric``, ``method``, ``dataset``, ...)."""
    if kind not in KINDS:
        raise ValueError(f"unknown component kind {kind!r}; kinds: {', '.join(KINDS)}")
    return [c.name for c in CHECKS[kind]]


def checks_for(component: Any) -> list[Check]:
    """The checks that apply to a component instance or registry entry."""
    return list(CHECKS[kind_of(component)])


def _expected(expected_failures: ExpectedFailures, kind: str, component: Any) -> dict[str, str]:
    """``{check name: reason}``, validated: unknown check names and empty reasons are errors."""
    if expected_failures is None:
        return {}
    mapping = expected_failures(component) if callable(expected_failures) else expected_failures
    names = check_names(kind)
    out: dict[str, str] = {}
    for key, reason in (mapping or {}).items():
        name = key.removeprefix("check_")
        if name not in names:
            raise ValueError(f"expected_failures names {key!r}, which is not a {kind} check; "
                             f"{kind} checks: {', '.join(names)}")
        if not isinstance(reason, str) or not reason.strip():
            raise ValueError(f"expected_failures[{key!r}] needs a reason (why the check cannot pass)")
        out[name] = reason
    return out


def check_component(component: Any, *, expected_failures: ExpectedFailures = None) -> list[CheckOutcome]:
    """Run every check of the component's kind and return the outcomes.

    Args:
        component: a component instance (``Spearman()``) or a registry entry
            (``host.metrics.get("spearman")``, created with its preset parameters).
        expected_failures: ``{check name: reason}`` for checks known to fail, or a callable
            taking the component and returning such a mapping.

    Raises:
        ConformanceError: a check failed, or an expected failure passed (remove it then); the
            message lists each with the reason.
        TypeError: ``component`` is a class or not an evalkit component.
        ValueError: ``expected_failures`` names an unknown check or gives no reason.
    """
    kind = kind_of(component)
    expected = _expected(expected_failures, kind, component)
    obj = resolve(component)
    outcomes: list[CheckOutcome] = []
    for chk in CHECKS[kind]:
        try:
            with isolated_cache():
                chk.func(obj)
        except CheckSkipped as exc:
            outcomes.append(CheckOutcome(chk.name, "skipped", str(exc)))
            continue
        except Exception as exc:
            message = str(exc) if isinstance(exc, AssertionError) else f"crashed: {describe_exception(exc)}"
            outcomes.append(CheckOutcome(chk.name, "xfailed" if chk.name in expected else "failed", message))
            continue
        if chk.name in expected:
            outcomes.append(CheckOutcome(chk.name, "xpassed",
                                         f"passes, but expected_failures says: {expected[chk.name]}"))
        else:
            outcomes.append(CheckOutcome(chk.name, "passed"))
    if any(o.status in ("failed", "xpassed") for o in outcomes):
        raise ConformanceError(component_id(component), outcomes)
    return outcomes


def _check_kind(kind: str) -> Callable[..., list[CheckOutcome]]:
    def run(component: Any, *, expected_failures: ExpectedFailures = None) -> list[CheckOutcome]:
        if kind_of(component) != kind:
            raise TypeError(f"check_{kind} needs a {kind}, got {component_id(component)}")
        return check_component(component, expected_failures=expected_failures)

    run.__name__ = run.__qualname__ = f"check_{kind}"
    run.__doc__ = (f"Run every {kind} check on ``component`` (see :func:`check_component`); checks: "
                   + ", ".join(check_names(kind)) + ".")
    return run


check_metric = _check_kind("metric")
check_method = _check_kind("method")
check_dataset = _check_kind("dataset")
check_aggregator = _check_kind("aggregator")
check_reporter = _check_kind("reporter")


def parametrize_with_checks(components: Iterable[Any], *, expected_failures: ExpectedFailures = None) -> Any:
    """A ``pytest.mark.parametrize`` giving one test item per (component, check).

    The decorated test takes ``component`` and ``check`` and calls ``check(component)``. Item ids
    are ``<kind>:<name>-<check>`` (``metric:spearman-deterministic``). Checks listed in
    ``expected_failures`` (a mapping, applied to every component, or a callable taking each
    component and returning one) are marked ``xfail(strict=True)``: they must fail, so fixing the
    component forces the entry's removal.

    Raises:
        TypeError: a class instead of an instance, or an object that is no evalkit component.
        ValueError: ``expected_failures`` names an unknown check or gives no reason.
    """
    import pytest

    params = []
    for comp in components:
        kind = kind_of(comp)
        cid = component_id(comp)
        expected = _expected(expected_failures, kind, comp)
        for chk in CHECKS[kind]:
            marks = [pytest.mark.xfail(reason=expected[chk.name], strict=True)] if chk.name in expected else []
            params.append(pytest.param(comp, chk, id=f"{cid}-{chk.name}", marks=marks))
    return pytest.mark.parametrize(("component", "check"), params)
