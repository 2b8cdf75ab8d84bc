"""Base classes and data types of the five component kinds.

Plugins subclass these (third-party plugins exactly like the built-in ones):

- :class:`Dataset`: named, typed by task (``sts``, ``pair_classification``, ...), with splits; loads a
  pandas DataFrame with the field's standard columns ``sentence1``, ``sentence2`` and ``score``
  (similarity, e.g. 0-5) or ``label`` (0/1).
- :class:`Method`: scikit-learn style. ``__init__`` only stores keyword parameters,
  :meth:`Method.get_params` returns them, :meth:`Method.fit` learns from unlabelled sentence pairs
  (TF-IDF vocabulary, whitening matrix), :meth:`Method.predict` returns one float per pair, higher
  meaning more similar.
- :class:`Metric`: ``name``, ``higher_is_better``, ``task_types``; keyword-only arguments, no
  ``**kwargs``; per-example scores where the metric decomposes, corpus-level ``compute`` otherwise.
  Naming as in scikit-learn: ``*_score`` higher is better, ``*_distance``/``*_error`` lower is
  better. A :class:`TunedMetric` (auto-threshold F1) fits parameters on labelled predictions under
  a stated protocol (validation split, cross-fitting, or the labelled *oracle*).
- :class:`Aggregator`: a methods x datasets table to one score per method (plus rank), with a
  stated rule for zeros, negatives and missing cells.
- :class:`Reporter`: renders a :class:`Report` (terminal, markdown, csv, json, latex, ...).
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from evalkit.encoding import EncoderOutputRequest, EncoderOutputs

#: Task types known to the built-in plugins. Plugins may introduce others.
TASK_TYPES = ("sts", "pair_classification", "classification", "generation", "leaderboard")


class Component:
    """Common behaviour: a ``name``, a description and scikit-learn style ``get_params``."""

    name: ClassVar[str] = ""
    #: Other names the registry accepts for this component (``arithmetic`` for ``mean``).
    aliases: ClassVar[tuple[str, ...]] = ()
    #: Set by the registry to the name the component was created under (a preset's name).
    registered_name: str = ""
    #: Distributions (pip names) whose versions can change this component's output, e.g.
    #: ``("numpy", "torch", "transformers", "sentence-transformers")``. Their installed versions are
    #: part of the keys of stored cells and provenance (:mod:`evalkit.fingerprint`); a library
    #: the component's own code imports is recorded anyway, so list the ones reached indirectly too.
    requires: ClassVar[tuple[str, ...]] = ("numpy",)

    def local_inputs(self) -> dict[str, str]:
        """Local files or folders the output depends on that no parameter names as a path.

        ``{label: path}``; e.g. a model *name* the component resolves to a folder shipped by a
        package. Each is fingerprinted by content (:func:`evalkit.fingerprint.path_fingerprint`)
        into the keys of stored cells. Parameters that are paths are found without this. Default:
        none.
        """
        return {}

    def get_params(self) -> dict[str, Any]:
        """The keyword parameters of ``__init__`` with their current values.

        As in scikit-learn's ``BaseEstimator.get_params``: each ``__init__`` parameter must be
        stored unchanged on an attribute of the same name. The result goes into provenance and
        cache keys, so values should be JSON-serialisable.
        """
        sig = inspect.signature(type(self).__init__)
        params: dict[str, Any] = {}
        for p in sig.parameters.values():
            if p.name == "self" or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                continue
            params[p.name] = getattr(self, p.name, p.default)
        return params

    @property
    def display_name(self) -> str:
        """The name to show in tables: the preset's name if any, else the class's ``name``."""
        return self.registered_name or self.name

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"


# ------------------------------------------------------------------------------------------------
# Datasets
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DataFile:
    """One file a dataset needs, with where to get it.

    Attributes:
        path: path relative to the data directory (``stsbenchmark/sts-test.csv``).
        sha256: hex digest of the official file, or ``None`` when unknown.
        url: official download location (a file, or an archive holding it), or ``None``.
        member: the file's path inside the archive at ``url`` (``.zip``/``.tar.gz``), if any.
        rows: expected number of data rows (pairs), checked after loading, or ``None``.
    """

    path: str
    sha256: str | None = None
    url: str | None = None
    member: str | None = None
    rows: int | None = None


class Dataset(Component, ABC):
    """A named dataset with splits, loaded as a pandas DataFrame.

    Subclasses set ``name``, ``task_type``, ``splits`` and ``eval_splits`` and implement
    :meth:`files` and :meth:`load`. The frame returned by :meth:`load` has string columns
    ``sentence1`` and ``sentence2`` and a float64 ``score`` (task ``sts``), an int64 ``label`` in
    {0, 1} (task ``pair_classification``) or an int64 class index in ``0 .. K-1`` (task
    ``classification``, with :attr:`class_names` and :attr:`train_split`); extra columns (``subset``,
    ids) are allowed.
    """

    task_type: ClassVar[str] = "sts"
    splits: ClassVar[tuple[str, ...]] = ("test",)
    #: Splits that ``evalkit compare`` evaluates by default.
    eval_splits: ClassVar[tuple[str, ...]] = ("test",)
    #: The validation split used to tune anything tunable (thresholds), if the dataset has one.
    dev_split: ClassVar[str | None] = None
    #: The gold column: ``score`` for similarity tasks, ``label`` for classification.
    target: ClassVar[str] = "score"
    #: Scale of the gold column, e.g. "0-5".
    target_scale: ClassVar[str] = ""
    requires: ClassVar[tuple[str, ...]] = ("numpy", "pandas")
    #: Task ``classification``: the class names, in label-index order (see :mod:`evalkit.classification`).
    class_names: ClassVar[tuple[str, ...]] = ()
    #: Task ``classification``: the labelled split classification methods are trained on.
    train_split: ClassVar[str | None] = None
    homepage: ClassVar[str] = ""
    citation: ClassVar[str] = ""

    @abstractmethod
    def files(self, split: str | None = None) -> list[DataFile]:
        """The files :meth:`load` reads for ``split`` (all splits when ``None``)."""

    @abstractmethod
    def load(self, split: str, data_dir: Path) -> pd.DataFrame:
        """Load ``split`` from ``data_dir``.

        Raises:
            DataError: a file is missing (the message names the files expected and where to get
                them), malformed (the message names file and line) or has the wrong row count.
            ConfigError: ``split`` is not one of :attr:`splits`.
        """

    def describe_split(self, split: str) -> str:
        """Which rows ``split`` holds, for table notes (``"the dev split"``); datasets whose
        splits are selected from one file say how (the ``pairs`` dataset names file and column)."""
        return f"the {split} split"

    def check_split(self, split: str) -> None:
        """Raise :class:`~evalkit.errors.ConfigError` unless ``split`` is one of :attr:`splits`."""
        if split not in self.splits:
            from evalkit.errors import ConfigError

            raise ConfigError(
                f"dataset {self.display_name!r} has no split {split!r}; its splits are "
                f"{', '.join(self.splits)}."
            )


# ------------------------------------------------------------------------------------------------
# Methods
# ------------------------------------------------------------------------------------------------
class Method(Component, ABC):
    """Scores sentence pairs: one float per pair, higher meaning more similar.

    ``__init__`` stores keyword parameters only; heavy work (loading a model) happens lazily in
    :meth:`fit` or :meth:`predict`, and heavy imports (torch) stay inside those methods. A method
    that needs sentence or token embeddings declares them (:meth:`encoder_outputs`) and reads them
    with :meth:`encoder_output`, sharing them with the run's other methods. :meth:`predict` leaves
    the method's attributes as :meth:`fit` left them.
    """

    #: Task types the method's scores make sense for.
    task_types: ClassVar[tuple[str, ...]] = ("sts", "pair_classification")

    #: Whether reordering the pairs (for ``fit`` and ``predict`` alike) only reorders the scores.
    #: Checked by :mod:`evalkit.testing`; set ``False`` for a method that depends on pair order.
    order_invariant: ClassVar[bool] = True

    def fit(self, pairs: pd.DataFrame) -> Method:
        """Learn from unlabelled pairs (columns ``sentence1``, ``sentence2``); default: nothing.

        The runner passes the sentences of the evaluated split without its gold column
        (transductive, label-free, as in Su et al. 2021 for BERT-whitening). The default learns
        nothing but still validates ``pairs`` (see :func:`evalkit.validation.check_pairs`).

        Raises:
            DataError: ``pairs`` is not a DataFrame of string columns sentence1 and sentence2.
        """
        from evalkit.validation import check_pairs

        check_pairs(pairs, what=f"{self.display_name or type(self).__name__}: pairs")
        return self

    @abstractmethod
    def predict(self, pairs: pd.DataFrame) -> np.ndarray:
        """Similarity of each pair: float64 array of shape ``(len(pairs),)``, all finite."""

    def encoder_outputs(self) -> list[EncoderOutputRequest]:
        """The encoder outputs this method reads (:mod:`evalkit.encoding`); default none.

        The executor computes each requested (encoder, kind) once per distinct text of the run,
        shared with every other method requesting it, and binds the run's outputs to the method
        (:meth:`bind_encoder_outputs`) before ``fit``. Must not depend on fitted state.
        """
        return []

    def bind_encoder_outputs(self, outputs: EncoderOutputs) -> None:
        """Called by the executor before ``fit`` when :meth:`encoder_outputs` requests any: the
        method reads them through :meth:`encoder_output`."""
        self._evalkit_encoder_outputs = outputs

    def encoder_output(self, request: EncoderOutputRequest, texts: Sequence[str]) -> list[np.ndarray]:
        """The ``request.kind`` output of each of ``texts`` (one float32 array per text, same order;
        shapes in :mod:`evalkit.encoding`), from the bound outputs, else from
        :func:`evalkit.encoding.default_encoder_outputs` (direct use outside a run).

        Raises:
            ConfigError, PluginError: as the encoder's ``encode``.
        """
        outputs = self.__dict__.get("_evalkit_encoder_outputs")
        if outputs is None:
            from evalkit.encoding import default_encoder_outputs

            outputs = default_encoder_outputs()
        return outputs.get(request, texts)


# ------------------------------------------------------------------------------------------------
# Metrics
# ------------------------------------------------------------------------------------------------
@dataclass
class MetricResult:
    """A metric's value with optional extras (a threshold, precision at it, ...).

    ``value`` is on the scale the metric documents (correlations: -1..1; F1: 0-1).
    """

    value: float
    extras: dict[str, Any] = field(default_factory=dict)


class Metric(Component, ABC):
    """Scores predictions against references.

    ``compute`` takes keyword-only arguments ``predictions`` and ``references`` (1-D arrays of equal
    length ``n``) and returns a float or :class:`MetricResult`.
    """

    higher_is_better: ClassVar[bool] = True
    task_types: ClassVar[tuple[str, ...]] = ()
    #: Value range, for documentation and table captions, e.g. "-1..1" or "0-1".
    scale: ClassVar[str] = ""
    #: Show x 100 in tables (correlations, F1, accuracy); JSON keeps the metric's own scale.
    percent: ClassVar[bool] = False
    #: Human-readable name for table captions, e.g. "Spearman's rho".
    title: ClassVar[str] = ""
    #: The value perfect predictions reach (1.0 for a correlation or F1, 0.0 for a distance), or
    #: ``None`` when there is no fixed optimum. Checked by :mod:`evalkit.testing`.
    optimum: ClassVar[float | None] = None
    #: Whether permuting the (prediction, reference) pairs together leaves the value unchanged
    #: (true of every corpus-level metric that treats examples alike).
    order_invariant: ClassVar[bool] = True

    @abstractmethod
    def compute(self, *, predictions: Any, references: Any) -> float | MetricResult:
        """Corpus-level value.

        Raises:
            DataError: inputs of different lengths, empty, or not finite.
        """

    def per_example(self, *, predictions: Any, references: Any) -> np.ndarray | None:
        """Per-example scores whose mean is :meth:`compute`, or ``None`` if not decomposable."""
        return None


#: Where a :class:`TunedMetric` fits its parameters: on the dataset's validation split (``dev``),
#: by k-fold cross-fitting on the evaluated rows (``cv``), or on the evaluated rows themselves
#: (``self``, the optimistic *oracle*; always labelled as such).
TUNE_ON = ("dev", "cv", "self")


class TunedMetric(Metric):
    """A metric with parameters fitted on scored, labelled rows (e.g. a decision threshold).

    Fitting on the rows being evaluated leaks their labels into the score, so the fitting rows
    are chosen by a protocol (:data:`TUNE_ON`, run by :func:`evalkit.tuning.score_metric` for
    ``evalkit compare`` and ``evalkit score``):

    - ``dev``: ``fitted = fit(<validation split's predictions>)``, then
      ``apply(<evaluated predictions>, fitted)`` with the parameters unchanged. The runner also
      scores the dataset's :attr:`Dataset.dev_split` with the same fitted method for this.
    - ``cv``: :meth:`cross_fit` on the evaluated rows (each row scored with parameters fitted on
      the other folds): an unbiased estimate when no validation split exists.
    - ``self``: ``apply(rows, fit(rows))`` on the evaluated rows: an upper bound (oracle).

    :meth:`compute` (the plain :class:`Metric` contract, used by callers unaware of tuning) returns
    the ``cv`` estimate, so it never reports a leaked value. Subclasses implement :meth:`fit`,
    :meth:`apply` and :meth:`cross_fit`; :meth:`apply` reports the fitted parameters in its extras
    (e.g. ``threshold``) and the protocol adds ``tuned_on`` (and ``tuned_split``, ``n_tune``,
    ``oracle``) to them.
    """

    @abstractmethod
    def fit(self, *, predictions: Any, references: Any) -> dict[str, Any]:
        """Fit the parameters on labelled predictions; a JSON-serialisable dict.

        Raises:
            DataError: invalid inputs (lengths, non-finite values, labels).
        """

    @abstractmethod
    def apply(self, *, predictions: Any, references: Any, fitted: Mapping[str, Any]) -> MetricResult:
        """The metric on ``predictions`` with the parameters ``fitted`` (by :meth:`fit`) unchanged."""

    @abstractmethod
    def cross_fit(self, *, predictions: Any, references: Any) -> MetricResult:
        """Out-of-fold estimate on these rows: no row is scored with parameters fitted on it."""

    def compute(self, *, predictions: Any, references: Any) -> MetricResult:
        """The leakage-free default: :meth:`cross_fit`, with ``tuned_on="cv"`` in the extras."""
        out = self.cross_fit(predictions=predictions, references=references)
        out.extras.setdefault("tuned_on", "cv")
        return out


# ------------------------------------------------------------------------------------------------
# Aggregators
# ------------------------------------------------------------------------------------------------
class Aggregator(Component, ABC):
    """Reduces a methods x datasets table to one value per method.

    ``rule`` is the one-line statement printed under every table that uses the aggregator,
    including how zeros, negatives and missing cells are treated.
    """

    #: Whether a larger aggregate value is better. ``None`` (value-preserving rules such as means
    #: and the median): the aggregate reads like the cells, so it follows the table's own
    #: ``higher_is_better``. Rank-based rules set it (a mean rank is lower-is-better).
    higher_is_better: ClassVar[bool | None] = None
    #: Whether reordering the table's columns (tasks) leaves each row's value unchanged and
    #: reordering its rows (systems) only reorders the values.
    order_invariant: ClassVar[bool] = True

    @property
    def rule(self) -> str:
        return ""

    @abstractmethod
    def aggregate(self, table: pd.DataFrame, *, higher_is_better: bool = True) -> pd.Series:
        """One float per row of ``table`` (rows: systems, columns: tasks).

        ``higher_is_better`` says how to read the cells (for rank-based rules). A method that gets no
        value under the rule (a skipped row) is NaN in the result, and the rule says why.

        Raises:
            DataError: a cell violates the rule's policy (e.g. a non-positive value under a
                geometric mean); the message names the systems and tasks concerned.
        """

    def unscored(self, table: pd.DataFrame, *, higher_is_better: bool = True) -> dict[str, str]:
        """Rows of ``table`` that get no value under the rule, each with the reason (for notes).

        The default names the rows with a missing cell; rules with other policies override it.
        """
        out: dict[str, str] = {}
        for idx, row in table.iterrows():
            missing = [str(c) for c, v in row.items() if v != v]  # NaN != NaN
            if missing:
                out[str(idx)] = "missing " + ", ".join(missing)
        return out


# ------------------------------------------------------------------------------------------------
# Reports and reporters
# ------------------------------------------------------------------------------------------------
@dataclass
class Table:
    """One table of a report.

    Attributes:
        frame: the values; the index labels rows (methods, systems), columns are tasks/rules.
        title: caption line, e.g. "Spearman's rho x 100, test split".
        notes: lines printed under the table (aggregation rules, scale, missing cells).
        digits: decimals shown by text reporters.
        column_digits: per-column decimals overriding ``digits`` (0 for ranks and counts). Columns
            not listed whose name ends with "rank" are shown as integers.
        best: optional boolean frame, index a subset of ``frame``'s index and columns a subset of
            its (dataset) columns: ``True`` at the best cell of each column (several on a tie).
            Reporters show it in bold (``**`` in markdown, ``\\textbf`` in LaTeX, ``<b>`` in
            HTML, a trailing ``*`` in the terminal) and as ``<column> best`` columns in CSV.
        indistinct: optional boolean frame aligned like ``best``: ``True`` where the cell is not
            significantly worse than its column's best (the best cell itself included). Reporters
            mark the cells that are not best (a trailing dagger, ``\\underline`` in LaTeX, ``<u>``
            in HTML) and write ``<column> indistinct`` columns in CSV.
        legend: what the marks mean (the test, its correction, sidedness and alpha), printed
            with the marks' key under the table when ``best`` or ``indistinct`` is set.
    """

    frame: pd.DataFrame
    title: str = ""
    notes: list[str] = field(default_factory=list)
    digits: int = 2
    column_digits: dict[str, int] = field(default_factory=dict)
    best: pd.DataFrame | None = None
    indistinct: pd.DataFrame | None = None
    legend: str = ""


@dataclass
class Report:
    """What a command renders: tables for people and a JSON-ready payload for machines."""

    tables: list[Table] = field(default_factory=list)
    payload: dict[str, Any] = field(default_factory=dict)


def json_default(value: Any) -> Any:
    """The ``default=`` of :func:`json.dumps` for report payloads (as the JSON reporter and the HTML
    report use it): a NumPy scalar becomes its Python number (``.item()``), an array a nested list
    (``.tolist()``), anything else ``str(value)``. Raises nothing.
    """
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


class Reporter(Component, ABC):
    """Renders a :class:`Report` to text, selected by ``--format NAME``."""

    #: File extension for ``--output`` (without dot).
    extension: ClassVar[str] = "txt"

    @abstractmethod
    def render(self, report: Report) -> str:
        """The whole output as one string (ending with a newline)."""


def as_1d_float(values: Any, *, what: str = "values") -> np.ndarray:
    """Convert to a 1-D float64 array.

    Raises:
        DataError: not convertible or not 1-D.
    """
    import numpy as np

    from evalkit.errors import DataError

    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{what} must be numbers: {exc}") from None
    if arr.ndim != 1:
        raise DataError(f"{what} must be one-dimensional, got shape {arr.shape}")
    return arr


def check_finite(values: np.ndarray, *, what: str, index: Sequence[Any] | None = None) -> None:
    """Raise :class:`~evalkit.errors.DataError` naming the rows where ``values`` is NaN or inf."""
    import numpy as np

    from evalkit.errors import DataError

    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        labels = [index[i] for i in bad[:10]] if index is not None else bad[:10].tolist()
        more = f" (and {bad.size - 10} more)" if bad.size > 10 else ""
        raise DataError(f"{what} has {bad.size} non-finite values at rows {labels}{more}")
