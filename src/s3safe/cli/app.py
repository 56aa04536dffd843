"""What every command receives: resolved settings, a lazily built connection, and the renderer."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from s3safe.cli.render import Renderer
from s3safe.core.errors import PartialFailure, S3SafeError
from s3safe.core.models import ActionResult
from s3safe.core.settings import ConnectionSettings

if TYPE_CHECKING:
    from s3safe.core.progress import TransferProgress
    from s3safe.storage.connection import Connection


@dataclass
class App:
    settings: ConnectionSettings
    render: Renderer
    verbose: int = 0
    defaults: dict[str, Any] = field(default_factory=dict)  # the config file's values
    # settings that could not be resolved (a bad config file or global option): raised where the connection is needed
    unusable: S3SafeError | None = None
    _conn: Connection | None = field(default=None, repr=False)

    def use_sse_c_key(self, path: str | None) -> None:
        """--sse-c-key-file: from here on every object request carries that key (refused over plain HTTP)."""
        if not path:
            return
        from dataclasses import replace

        from s3safe.core.ssec import load_sse_c_key

        self.settings = replace(self.settings, sse_c_key=load_sse_c_key(path, plain_http=self.settings.uses_http))
        self._conn = None

    @property
    def conn(self) -> Connection:
        if self.unusable is not None:
            raise self.unusable
        if self._conn is None:
            from s3safe.auth.provider import saved_profile_for
            from s3safe.storage.connection import Connection

            self._conn = Connection(self.settings, saved_profile=saved_profile_for)
        return self._conn

    def actions(self, results: Iterable[ActionResult], *, noun: str = "object", progress: TransferProgress | None = None) -> None:
        """Render a stream of action results, then a count; exit 5 if any failed. `progress` is shown while the
        results come, and ends (its last --progress-json record) before the summary, as for trees."""
        self.render.finish_if_stdout_closes()
        with self.render.transfer_progress(progress):
            done, failed, planned, skipped = self._render_each(results)
        summary = {"type": "summary", "done": done, "failed": failed, "planned": planned, "skipped": skipped}
        if planned:
            self.render.info(f"dry run: {planned} change(s) planned; nothing was changed", data=summary)
        elif not (done or failed or skipped):
            self.render.info(f"nothing to do: no matching {noun}s", data=summary)
        else:
            parts = [f"{done} done"] + [f"{skipped} skipped"] * bool(skipped) + [f"{failed} failed"] * bool(failed)
            self.render.info(", ".join(parts), data=summary)
        if failed:
            raise PartialFailure(f"{failed} of {done + failed} {noun}(s) failed", failed=failed, succeeded=done)

    def _render_each(self, results: Iterable[ActionResult]) -> tuple[int, int, int, int]:
        """Each result's line (or record); the counts (done, failed, planned, skipped)."""
        done = failed = planned = skipped = 0
        for result in results:
            if result.dry_run:
                planned += 1
                text = f"(dry run) would {result.action} {result.target}"
            elif result.action == "skip" and result.ok:
                skipped += 1
                text = f"skip {result.target}" + (f"  [{result.detail}]" if result.detail else "")
            elif result.ok:
                done += 1
                text = f"{result.action} {result.target}" + (f"  [{result.detail}]" if result.detail else "")
            else:
                failed += 1
                text = f"FAILED {result.action} {result.target}: {result.error}"
            if result.ok:
                self.render.record(result.to_dict(), None if self.render.quiet and not result.dry_run else text)
            else:
                self.render.record(result.to_dict(), None)
                if not self.render.json_mode:
                    self.render.line(text, err=True)
        return done, failed, planned, skipped
