"""The evalkit plugin contract: pluggy hook specifications.

A plugin is a module (or object) with functions decorated by :data:`evalkit.hookimpl` whose names
match the specs below. Built-in plugins in ``plugins/`` use exactly this contract. A third-party
package declares its module under the ``evalkit`` entry-point group::

    [project.entry-points.evalkit]
    my_plugin = "my_plugin"

Every ``register_*`` hook receives a ``register`` callable bound to the calling plugin, so each
registry entry records which plugin and distribution provided it. All hooks are called once,
when the plugin host is first built (:func:`evalkit.plugins.get_host`), except
``register_commands``, which is called when the command line is built. ``evalkit hooks`` lists
the hooks and which plugins implement them; :mod:`evalkit.testing` checks the components.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

import pluggy

if TYPE_CHECKING:
    import click

PROJECT_NAME = "evalkit"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


class Register(Protocol):
    """The callable handed to every ``register_*`` hook of a component kind (``register_suites``
    gets a :class:`SuiteRegister`).

    ``register(factory, name=None, *, params=None, description=None)``

    - ``factory``: a component class (a subclass of the kind's base class in
      :mod:`evalkit.interfaces`) or any callable returning an instance.
    - ``name``: lowercase slug (``[a-z0-9][a-z0-9_.-]*``); defaults to ``factory.name``.
    - ``params``: keyword arguments bound into this entry (a preset), e.g. the model of a
      ``minilm-cosine`` preset of a generic encoder method. Users may override them.
    - ``description``: one line for ``evalkit list``; defaults to the docstring's first line.

    Raises :class:`evalkit.errors.DuplicateNameError` when another plugin already registered the
    name for this kind, and :class:`evalkit.errors.PluginError` for an invalid name or factory.
    """

    def __call__(
        self,
        factory: Any,
        name: str | None = None,
        *,
        params: dict[str, Any] | None = None,
        description: str | None = None,
    ) -> None: ...


class SuiteRegister(Protocol):
    """The callable handed to the ``register_suites`` hook.

    ``register(suite, name=None, *, description=None, default=False)``

    - ``suite``: a :class:`evalkit.suite.Suite`, a dict with the keys of a suite file
      (``datasets``, ``methods``, ``metrics``, ``aggregate``, optionally ``name`` and
      ``description``), or the path of a suite file (TOML; paths in it resolve against its folder).
    - ``name``: what users pass to ``--suite``; defaults to the suite's ``name`` (a file's stem).
    - ``description``: one line for ``evalkit list suites``; defaults to the suite's own.
    - ``default``: ``compare`` runs this suite when no ``--suite`` is given. At most one
      registered suite may say so; evalkit itself names none.

    Raises :class:`evalkit.errors.DuplicateNameError` when another plugin already registered the
    name, and :class:`evalkit.errors.PluginError` for an invalid name or definition.
    """

    def __call__(
        self,
        suite: Any,
        name: str | None = None,
        *,
        description: str | None = None,
        default: bool = False,
    ) -> None: ...


@hookspec
def register_metrics(register: Register) -> None:
    """Register metrics (subclasses of :class:`evalkit.Metric`).

    Called once when the plugin manager is built. Example::

        @evalkit.hookimpl
        def register_metrics(register):
            register(KendallTau)                    # name taken from KendallTau.name

    Check each one with ``evalkit.testing.check_metric(KendallTau())`` (see :mod:`evalkit.testing`).
    """


@hookspec
def register_methods(register: Register) -> None:
    """Register methods (subclasses of :class:`evalkit.Method`) and named presets of them.

    Called once when the plugin manager is built. Example::

        @evalkit.hookimpl
        def register_methods(register):
            register(EncoderCosine)                                   # generic: "sbert-cosine"
            register(EncoderCosine, "mpnet-cosine", params={"model": "all-mpnet-base-v2"})

    Check each one with ``evalkit.testing.check_method(EncoderCosine())`` (see :mod:`evalkit.testing`).
    """


@hookspec
def register_datasets(register: Register) -> None:
    """Register datasets (subclasses of :class:`evalkit.Dataset`).

    Called once when the plugin manager is built. Example::

        @evalkit.hookimpl
        def register_datasets(register):
            register(MyPairs)                       # MyPairs.name == "my-pairs"

    Check each one with ``evalkit.testing.check_dataset(MyPairs())`` (see :mod:`evalkit.testing`).
    """


@hookspec
def register_aggregators(register: Register) -> None:
    """Register aggregators (subclasses of :class:`evalkit.Aggregator`).

    They turn a methods x datasets table into one score and rank per method. Called once when the
    plugin manager is built. Example::

        @evalkit.hookimpl
        def register_aggregators(register):
            register(TrimmedMean, params={"proportion": 0.1})

    Check each one with ``evalkit.testing.check_aggregator(TrimmedMean())`` (see :mod:`evalkit.testing`).
    """


@hookspec
def register_reporters(register: Register) -> None:
    """Register reporters (subclasses of :class:`evalkit.Reporter`), selected by ``--format``.

    Called once when the plugin manager is built. Example::

        @evalkit.hookimpl
        def register_reporters(register):
            register(RstReporter)                   # RstReporter.name == "rst"

    Check each one with ``evalkit.testing.check_reporter(RstReporter())`` (see :mod:`evalkit.testing`).
    """


@hookspec
def register_suites(register: SuiteRegister) -> None:
    """Register named suites: datasets x methods x metrics that ``compare --suite NAME`` runs.

    Called once when the plugin manager is built; the components a suite names may come from any
    plugin (they are checked when the suite runs). Here ``register`` is
    ``register(suite, name=None, *, description=None, default=False)`` (:class:`SuiteRegister`):
    ``suite`` is a :class:`evalkit.suite.Suite`, a dict with the keys of a suite file (``datasets``,
    ``methods``, ``metrics``, ``aggregate``, optionally ``name`` and ``description``) or the path of a
    suite file; ``name`` defaults to the suite's own; ``default=True`` makes it the suite ``evalkit
    compare`` runs without ``--suite`` (one registered suite at most may say so: several, or none, make
    ``compare`` without ``--suite`` an error naming the plugins). A name another plugin registered
    raises :class:`evalkit.errors.DuplicateNameError`. Example::

        @evalkit.hookimpl
        def register_suites(register):
            register({"datasets": ["my-pairs"], "methods": ["tfidf-cosine", "my-method"],
                      "metrics": ["spearman"], "aggregate": ["mean"]},
                     "my-suite", description="my pairs: TF-IDF against my method")
            register(Path(__file__).parent / "suites" / "large.toml")   # a suite file

    ``evalkit list suites`` and ``evalkit compare --help`` list them.
    """


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add subcommands to the ``evalkit`` command-line interface.

    Called once when the CLI is built, with the root :class:`click.Group`. Keep imports inside the
    command functions so that ``evalkit --help`` stays fast. Example::

        @evalkit.hookimpl
        def register_commands(cli):
            @cli.command()
            def hello():
                click.echo("hello")
    """
