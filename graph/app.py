"""The ASGI application: GraphQL at /graphql, health probes, the legacy shim, the web app at /."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from starlette.requests import ClientDisconnect, HTTPConnection
from starlette.staticfiles import StaticFiles

from data.health import StoreHealth, store_health
from graph import metrics
from graph.access_log import AccessLog
from graph.body_limit import BodyLimit
from graph.config import AppConfig
from graph.context import Context, bearer_token, client_address
from graph.cost import RequestBudget
from graph.ide import FAVICON
from graph.legacy import error as legacy_error
from graph.legacy import legacy_routes
from graph.request_id import HEADER, RequestId, current_request_id
from graph.router import graphql_routes, request_error
from graph.schema import build_schema
from graph.services.bundle import Services, build_services
from graph.services.tokens import SignedIn, TokenClaims
from graph.side_loop import SideLoop
from graph.threads import BlockingCalls

log = logging.getLogger(__name__)


def create_app(config: AppConfig, services: Services | None = None) -> FastAPI:
    """Build the app; ``services`` defaults to opening the configured store and model."""
    services = services or build_services(config)
    threads = BlockingCalls()
    executor = SideLoop()
    metrics.watch_store(services.engine)
    metrics.serving_model(services.recommendations.recommender)

    async def watch_model(every: float) -> None:
        """Switch this worker to a model a retrain published; each worker runs its own."""
        while True:
            await asyncio.sleep(every)
            try:
                if await threads.run(services.recommendations.refresh):
                    metrics.serving_model(services.recommendations.recommender)
            except Exception:
                log.exception("checking for a new model failed; will retry")

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        every = config.model_check_seconds
        watcher = asyncio.create_task(watch_model(every)) if every else None
        await services.loop_reads.open()
        yield
        if watcher is not None:
            watcher.cancel()
        await services.loop_reads.close()
        executor.stop()
        threads.shutdown()
        services.engine.dispose()

    app = FastAPI(
        title="movierec", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan
    )

    async def viewer_of(token: str) -> SignedIn | None:
        """Resolving a token reads the store (its user, the revocation list): on the loop when
        the store answers at once (``data.db.LoopReads``), else in a thread."""
        signer = services.accounts.signer
        found = await signer.signed_in_on_loop(token)
        if isinstance(found, TokenClaims):
            return await threads.run(signer.holder, found)
        return found

    async def context(request: HTTPConnection) -> Context:
        token = bearer_token(request)
        viewer = await viewer_of(token) if token else None
        return Context(
            services,
            threads,
            viewer=viewer,
            client=client_address(request),
            budget=RequestBudget(config.limits.max_cost, config.limits.max_loaded_fields),
            bearer_token=token,
        )

    app.router.routes.extend(
        graphql_routes(
            build_schema(config.limits),
            context,
            deadline_seconds=config.limits.deadline_seconds,
            executor=executor,
        )
    )

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> FileResponse:
        return FileResponse(FAVICON, media_type="image/svg+xml")

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "alive"}

    @app.get("/readyz")
    async def readyz() -> JSONResponse:
        """Ready when every main table answers a one-row read within the configured time."""
        recommender = services.recommendations.recommender
        model = {
            "kind": recommender.kind,
            "algorithm": recommender.algorithm,
            "version": recommender.version,
        }
        try:
            with anyio.fail_after(config.readiness_timeout_seconds):
                health = await threads.run_abandonable(store_health, services.engine)
        except TimeoutError:
            seconds = config.readiness_timeout_seconds
            health = StoreHealth("timeout", {"store": f"no answer within {seconds:g} s"})
        if health.state == "ok":
            return JSONResponse({"status": "ready", "store": "ok", "model": model})
        log.error(
            "readiness: the store is %s: %s", health.state, health.problems, exc_info=health.error
        )
        body = {"status": "unavailable", "store": health.state, "problems": health.problems}
        return JSONResponse({**body, "model": model}, 503)

    app.add_route("/metrics", metrics.scrape, methods=["GET"], include_in_schema=False)

    @app.exception_handler(ClientDisconnect)
    async def client_gone(request: Request, _exc: ClientDisconnect) -> Response:
        """A client that hung up mid-body (a load tool stopping, a phone losing signal) is not a
        server fault: logged at INFO, counted as 499 (nginx's "client closed request"); the
        answer goes nowhere."""
        log.info("client disconnected before its request body arrived: %s", request.url.path)
        return Response(status_code=499)

    @app.exception_handler(Exception)
    async def internal_error(_request: Request, exc: Exception) -> JSONResponse:
        """Outside GraphQL (legacy, probes): a JSON 500 without details; the log has them."""
        log.error("unhandled error", exc_info=exc)
        # Sent from Starlette's outermost layer, outside RequestId: the header is added here.
        request_id = current_request_id()
        return JSONResponse(
            {"message": "Internal server error.", "movies": [], "status": 500},
            status_code=500,
            headers={HEADER: request_id} if request_id else None,
        )

    legacy = legacy_routes(services, threads) if config.legacy_api else []
    app.router.routes.extend(legacy)
    if config.web_dir is not None and (config.web_dir / "index.html").is_file():
        app.mount("/", StaticFiles(directory=config.web_dir, html=True), name="web")
    else:
        log.info("no web app at %s: / is not served", config.web_dir)

    def too_large(path: str, message: str) -> Response:
        """The legacy app's envelope on its paths; GraphQL's error shape everywhere else."""
        if any(route.path_regex.match(path) for route in legacy):
            return legacy_error(413, message)
        return request_error(413, message)

    app.add_middleware(BodyLimit, max_bytes=config.limits.max_body_bytes, refuse=too_large)
    app.add_middleware(AccessLog)
    app.add_middleware(RequestId)  # outermost: the access line carries the request's id
    return app
