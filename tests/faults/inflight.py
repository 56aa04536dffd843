"""Counting requests in flight at the fault proxy: a FaultPlan whose hooks count each request from the moment the
proxy has read it until just before its answer goes back. Both ends lie inside the client's own request, so the
peak seen here is never more than the client had in flight.

A request the count selects is held a little (bounded) unless the peak is already past `limit`: requests then
pile up at the proxy as fast as the client can send them, so a client that would exceed the limit does, instead
of the server answering each one before the next is sent.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from tests.faults.proxy import FaultPlan, Request, Rewritten

MAX_HOLD = 0.3  # seconds a selected request waits for others to join it


class InFlight:
    def __init__(self, *, limit: int, selected: Callable[[Request], bool] = lambda r: True) -> None:
        self.limit = limit
        self.selected = selected
        self._cond = threading.Condition()
        self.now = 0
        self.peak = 0
        self.peak_selected = 0  # how many selected requests were in flight together at most
        self._selected_now = 0
        self.seen: list[Request] = []

    def plan(self) -> FaultPlan:
        return FaultPlan(rewrite_request=self._arrived, rewrite_response=self._answered)

    def _arrived(self, request: Request, body: bytes) -> bytes:
        with self._cond:
            self.seen.append(request)
            self.now += 1
            self.peak = max(self.peak, self.now)
            if self.selected(request):
                self._selected_now += 1
                self.peak_selected = max(self.peak_selected, self._selected_now)
                self._cond.notify_all()
                deadline = time.monotonic() + MAX_HOLD
                while self.now <= self.limit and (left := deadline - time.monotonic()) > 0:
                    self._cond.wait(left)
        return body

    def _answered(self, request: Request, status: int, headers: dict[str, str], body: bytes) -> Rewritten | None:
        with self._cond:
            self.now -= 1
            if self.selected(request):
                self._selected_now -= 1
            self._cond.notify_all()
        return None
