"""The one exception tree of wac.

Every error a user can see is a :class:`WacError`. A class's docstring is its default message,
``hint`` says what to do about it, and ``exit_code`` is what the CLI exits with::

    WacError (1)
    ├── UsageError (2)                    bad command line or input the user typed
    │   ├── ArgsError                     -d JSON malformed, not an object, or not matching the schema
    │   └── PathError                     unknown script path, path escaping the repo
    │       └── PathEscapeError           a path leaves the repository            (wac.project.discovery)
    ├── ScriptError (1)                   the user's script cannot be loaded (syntax, import error)
    ├── WorkflowFailedError (1)           a job ended in failure
    ├── NotDeployedError (1)              no deployed script at that path in the workspace
    ├── NonDeterminismError (1)           a workflow's key sequence changed between rounds
    ├── IncompatibleRunError (1)          new code cannot carry a recorded run on (dry replay)
    ├── MetadataError (1)                 wmill-lock.yaml / .script.yaml unreadable, lock resolution failed
    │   ├── StaleMetadataError            generate-metadata --check found stale items
    │   ├── LockResolutionError           uv could not resolve a script's lock      (wac.metadata.locks)
    │   ├── BundleDefinitionError         a flow.yaml / app.yaml cannot be read     (wac.metadata.bundles)
    │   ├── ScriptMetadataError           a .script.yaml cannot be read             (wac.project.scriptmeta)
    │   ├── EncodingError                 a source file is not UTF-8 (WAC002)       (wac.project.textio)
    │   ├── LockfileError                 wmill-lock.yaml cannot be used            (wac.project.lockfile)
    │   └── MissingLockError              the lock file a .script.yaml names is missing (wac.sync.scripts)
    ├── ConfigError (1)                   wmill.yaml or workspace configuration invalid
    ├── EnvBuildError (1)                 a script's lock cannot be installed in an environment
    ├── StoreError (5)                    the engine's store cannot be used
    │   ├── LostClaimError                a round outcome arrived for a claim that is no longer held
    │   ├── ConflictError (1)             the job is not in a state that allows this (e.g. not suspended)
    │   ├── JobNotFoundError (1)          no job with that id
    │   ├── StoreGoneError                the store file was deleted or replaced under a live process
    │   ├── StoreCorruptError             SQLite reports the store damaged (SQLITE_CORRUPT)
    │   └── DiskFullError                 the disk holding the store or wac's state is full
    ├── WriteError (1)                    a file of the repo cannot be written (read-only, permissions)
    ├── AlreadyExistsError (1)            a file wac init / bootstrap would create exists  (wac.cli.init)
    ├── AuthError (3)                     a workspace refused our credentials
    ├── RejectedError (4)                 a workspace rejected the request
    ├── WorkspaceError (5)                a workspace answered with an error
    ├── NetworkError (7)                  a workspace could not be reached
    ├── ObjectNotFoundError (1)           no variable/resource/resource type at that path
    ├── ObjectError (1)                   a variable/resource file or value is not valid ($var: cycle, type)
    ├── SecretKeyError (1)                a secret cannot be sealed or unsealed with the user's key
    ├── SecretAccessError (1)             a job may not read that secret
    ├── NotInWorkflowError (1)            an SDK call made outside a @workflow      (wac.sdk.failures)
    ├── StepKeyError (1)                  a step key cannot be used                 (wac.sdk.failures)
    ├── TaskOptionError (1)               a task option is not valid                (wac.sdk.failures)
    ├── NotJsonSerializableError (1)      a value is not JSON-serialisable          (wac.sdk.jsonvalue)
    ├── WmillNotSupportedError (1)        a wmill function the engine lacks         (wac._shims.wmill.client)
    └── NotUnderEngineError (1)           a wmill client call outside a wac job     (wac._shims.wmill.client)

A code in parentheses is the class's ``exit_code``; a class without one exits as its parent. Classes
defined next to the code that raises them name their module on the right; the SDK's also derive from
the builtin a user's code would catch (``RuntimeError``, ``ValueError``, ``TypeError``,
``NotImplementedError``). ``tests/test_errors_tree.py`` checks this drawing against every
subclass of :class:`WacError` in wac and against ``docs/reference/exit-codes.md``.

Engine control flow (suspending a round, cancellation) is not here: it derives from
``BaseException`` and lives in ``wac.sdk`` so a user's ``except Exception`` cannot swallow it.
"""

from __future__ import annotations


class WacError(Exception):
    """wac failed."""

    exit_code: int = 1
    hint: str | None = None

    def __init__(self, message: str | None = None, *, hint: str | None = None) -> None:
        self.message = message or (self.__doc__ or "").strip().splitlines()[0]
        if hint is not None:
            self.hint = hint
        super().__init__(self.message)


class UsageError(WacError):
    """The command was not used correctly."""

    exit_code = 2


class ArgsError(UsageError):
    """The job arguments are not valid."""

    hint = "pass a JSON object, e.g. -d '{\"name\": \"x\"}' or -d @args.json"


class PathError(UsageError):
    """No script at that path."""


class ScriptError(WacError):
    """The script cannot be loaded."""


class WorkflowFailedError(WacError):
    """The workflow failed."""


class NotDeployedError(WacError):
    """No script is deployed at that path."""

    hint = "deploy it with: wac script push PATH   (or: wac sync push)"


class NonDeterminismError(WacError):
    """The workflow took a different path on replay."""

    hint = (
        "workflow bodies must be deterministic: wrap random values, clocks and I/O in step()"
    )


class MetadataError(WacError):
    """Script metadata could not be read or written."""


class StaleMetadataError(MetadataError):
    """The metadata is not up to date with the code."""

    hint = "update it with: wac generate-metadata"


class ConfigError(WacError):
    """The configuration is not valid."""


class StoreError(WacError):
    """The engine's store cannot be used."""

    exit_code = 5


class LostClaimError(StoreError):
    """The job is no longer held by this worker."""


class ConflictError(StoreError):
    """The job is not in a state that allows this."""

    exit_code = 1


class JobNotFoundError(StoreError):
    """No such job."""

    exit_code = 1
    hint = "list jobs with: wac job list"


class StoreGoneError(StoreError):
    """The store file was deleted or replaced while this process was using it."""

    hint = "stop every wac process of this store, then run again (a new store starts empty)"


class StoreCorruptError(StoreError):
    """The store is damaged."""

    hint = "check it with: wac store check   (then: wac store recover, or restore a wac store backup)"


class DiskFullError(StoreError):
    """The disk is full."""

    hint = "free some space and run again; the run is kept and resumes (wac worker)"


class WriteError(WacError):
    """A file cannot be written."""


class AuthError(WacError):
    """The workspace refused the credentials."""

    exit_code = 3


class RejectedError(WacError):
    """The workspace rejected the request."""

    exit_code = 4


class WorkspaceError(WacError):
    """The workspace answered with an error."""

    exit_code = 5


class NetworkError(WacError):
    """The workspace could not be reached."""

    exit_code = 7


class EnvBuildError(WacError):
    """A script's environment could not be built from its lock."""

    hint = "give uv a wheel folder with --find-links DIR (or WAC_FIND_LINKS), or an index with --index-url"


class ObjectNotFoundError(WacError):
    """No variable, resource or resource type at that path in the workspace."""

    hint = "list what there is: wac variable list / wac resource list"


class ObjectError(WacError):
    """A variable, resource or resource type is not valid."""


class SecretKeyError(WacError):
    """A secret cannot be sealed or read with this user's key."""


class SecretAccessError(WacError):
    """This job may not read that secret."""

    hint = "a secret under u/NAME/ is readable only by scripts under u/NAME/; move it to f/ or g/ to share it"


class IncompatibleRunError(WacError):
    """The code cannot carry the run on: its replay diverges from the recorded steps."""

    hint = "see where with: wac script check PATH; keep the run on its version, or rerun it: wac job rerun ID"
