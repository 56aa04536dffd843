"""One error hierarchy for the whole library; the CLI maps it to exit codes with `exit_code_for`.

Every message is meant to be one actionable line: what failed, on which object, what to do next.
"""

from __future__ import annotations

from datetime import datetime

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_NOT_FOUND = 3
EXIT_ACCESS = 4
EXIT_PARTIAL = 5
EXIT_INTEGRITY = 6
EXIT_REFUSED = 7
EXIT_AUDIT = 8
EXIT_INTERRUPTED = 130  # Ctrl-C (SIGINT): 128 + 2, as shells report it
EXIT_TERMINATED = 143  # SIGTERM: 128 + 15, so a service manager or CI timeout tells the two apart


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread: a KeyboardInterrupt so that every clean-up written for Ctrl-C runs."""


class S3SafeError(Exception):
    """Base of every error the library raises on purpose."""

    exit_code = EXIT_ERROR
    # set when the error comes from an S3 answer (storage/errors.py): what callers test instead of the text
    service_code: str | None = None  # the service's error code, e.g. "NoSuchKey", "RestoreAlreadyInProgress"
    http_status: int | None = None

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message} ({self.hint})"
        return self.message


class UsageError(S3SafeError):
    """The user asked for something malformed or contradictory."""

    exit_code = EXIT_USAGE


class NotFoundError(S3SafeError):
    exit_code = EXIT_NOT_FOUND


class NotFoundAtTime(NotFoundError):
    """Nothing was there at a moment (`get -r --as-of`): the message is `before` + the time + `after`, the time
    in ISO form here; the CLI shows it as it shows every time (local with offset, or --utc), through show_time."""

    def __init__(self, before: str, when: datetime, after: str = "", *, hint: str | None = None) -> None:
        self.before, self.when, self.after = before, when, after
        super().__init__(f"{before}{when.isoformat(timespec='seconds')}{after}", hint=hint)

    def show_time(self, text: str) -> None:
        self.message = f"{self.before}{text}{self.after}"


class AccessDeniedError(S3SafeError):
    """Access denied, or credentials missing, invalid or expired."""

    exit_code = EXIT_ACCESS


class PartialFailure(S3SafeError):
    """Some items of a bulk operation failed; the rest succeeded."""

    exit_code = EXIT_PARTIAL

    def __init__(self, message: str, *, failed: int, succeeded: int, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.failed = failed
        self.succeeded = succeeded


class IntegrityError(S3SafeError):
    exit_code = EXIT_INTEGRITY


class StoredCopyMismatch(IntegrityError):
    """The server's own evidence (an ETag that is the MD5 of what it stored) contradicts the bytes sent."""

    def __init__(self, message: str, *, etag: str | None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.etag = etag  # the stored object's ETag, if one was stored: it is known not to hold the local bytes


class SafetyRefusal(S3SafeError):
    """A safety check refused a destructive or insecure action."""

    exit_code = EXIT_REFUSED


class ConditionFailed(S3SafeError):
    """The server refused a request whose condition (If-Match, If-None-Match) no longer held (HTTP 412)."""


class WriteConflict(SafetyRefusal):
    """A conditional write refused: the key exists (--no-clobber) or another writer changed it since it was
    planned; the object there was left as it was."""


_LOCAL_DELETES = {"delete-local": ("delete", "local file(s)"), "local-delete": ("delete", "local file(s)")}


class DeleteCapRefusal(SafetyRefusal):
    """--max-delete refused a batch of deletions before the first one; `after` says what the run did before."""

    def __init__(self, action: str, cap: int, *, already: str | None = None, noun: str = "object(s)") -> None:
        outcome = f"none of them was deleted, but {already}" if already else "nothing was changed"
        verb, said = _LOCAL_DELETES.get(action, (action, noun))  # the engine's action ids are not words
        super().__init__(f"refusing to {verb} more than {cap} {said} (--max-delete); {outcome}",
                         hint="raise --max-delete or narrow the selection; --dry-run shows the full plan")  # fmt: skip
        self.action = action
        self.cap = cap
        self.noun = noun

    def after(self, already: str) -> DeleteCapRefusal:
        return DeleteCapRefusal(self.action, self.cap, already=already, noun=self.noun)


class AuditFindings(S3SafeError):
    exit_code = EXIT_AUDIT


class ServiceError(S3SafeError):
    """The store answered with an error that fits no narrower class."""


class NotS3Error(ServiceError):
    """The endpoint's answer is not S3's (a captive portal, a web server, a wrong --endpoint-url): nothing else
    it answers means anything either, so a command stops here rather than note one setting as unknown."""


class ListingError(S3SafeError):
    """A listing broke what a merge relies on: keys strictly increasing (UTF-8 bytes), each once, and
    pages that advance. Raised before anything is deleted on its strength."""


def exit_code_for(exc: BaseException) -> int:
    """The single place where exceptions become exit codes."""
    if isinstance(exc, S3SafeError):
        return exc.exit_code
    if isinstance(exc, Terminated):
        return EXIT_TERMINATED
    if isinstance(exc, KeyboardInterrupt):
        return EXIT_INTERRUPTED
    return EXIT_ERROR
