"""The ``/_sandbox`` control endpoints: the HTTP twin of :class:`.SandboxServer`'s Python methods.

They need no token, are never counted or logged, and are never subject to injected faults, so a
test in another process (an Airflow task, a ``dag.test()`` run) can steer the sandbox:

- ``POST /_sandbox/faults`` with the keywords of :meth:`.SandboxServer.inject` plus ``path``;
- ``DELETE /_sandbox/faults``;
- ``GET /_sandbox/stats``;
- ``POST /_sandbox/reset``, ``POST /_sandbox/reset-counters``;
- ``POST /_sandbox/revoke-all``, ``POST /_sandbox/expire-all``;
- ``POST /_sandbox/settings`` with any of ``token_lifetime``, ``refresh_token_lifetime``,
  ``settle_after_reads``, ``allow_non_ascii_secrets``.

Invalid input is a 400 in the framework's error shape. Successes answer ``{"ok": true, ...}``.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from airflow_provider_bitcapital.sandbox.errors import bad_request
from airflow_provider_bitcapital.sandbox.faults import fault_from_json
from airflow_provider_bitcapital.sandbox.request_checks import json_body, json_object

if TYPE_CHECKING:
    from airflow_provider_bitcapital.sandbox.state import SandboxState

CONTROL_PREFIX = "/_sandbox"


def is_control_path(path: str) -> bool:
    """Tell whether a path belongs to the control endpoints."""
    return path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/")


def control_routes(state: SandboxState) -> APIRouter:
    """Build the control routes over a sandbox state."""
    router = APIRouter(prefix=CONTROL_PREFIX)

    @router.post("/faults")
    async def inject(request: Request) -> Response:
        """Inject a fault."""
        try:
            fault = fault_from_json(await json_body(request))
        except (TypeError, ValueError) as error:
            raise bad_request(f"Invalid fault: {error}") from None
        with state.lock:
            state.faults.add(fault)
            pending = len(state.faults)
        return JSONResponse({"ok": True, "faults": pending})

    @router.delete("/faults")
    async def clear_faults() -> Response:
        """Forget every injected fault."""
        with state.lock:
            state.faults.clear()
        return JSONResponse({"ok": True, "faults": 0})

    @router.get("/stats")
    async def stats() -> Response:
        """Answer the counters."""
        return JSONResponse(state.stats())

    @router.post("/reset")
    async def reset() -> Response:
        """Go back to the freshly seeded state."""
        state.reset()
        return JSONResponse({"ok": True})

    @router.post("/reset-counters")
    async def reset_counters() -> Response:
        """Clear the counters and the request log."""
        state.reset_counters()
        return JSONResponse({"ok": True})

    @router.post("/revoke-all")
    async def revoke_all() -> Response:
        """Revoke every token."""
        with state.lock:
            count = state.tokens.revoke_all()
        return JSONResponse({"ok": True, "revoked": count})

    @router.post("/expire-all")
    async def expire_all() -> Response:
        """Make every access token expire now."""
        with state.lock:
            state.tokens.expire_all()
        return JSONResponse({"ok": True})

    @router.post("/settings")
    async def settings(request: Request) -> Response:
        """Change settings and answer them all."""
        try:
            state.update_settings(await json_object(request))
        except ValueError as error:
            raise bad_request(f"Invalid settings: {error}") from None
        with state.lock:
            return JSONResponse({"ok": True, **asdict(state.settings)})

    return router
