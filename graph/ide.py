"""GraphiQL at GET /graphql with every script and style served by movierec itself.

Strawberry's own GraphiQL page loads React and GraphiQL from unpkg, so offline (CI, this
project's machines) it is a blank page. This router renders the same IDE from the copies in
``graph/web/vendor/graphiql`` (package data; versions, licences and checksums in its README)
and serves those files next to the endpoint, at ``<endpoint>/graphiql/<file>``: the IDE works
whether or not the web app is served at /.

The page is rendered by ``LocalGraphiQL.render_graphql_ide`` (a Strawberry view's hook, see
``graph.router``) and its files served by the route ``asset_route`` makes.

The page's Content-Security-Policy lets it load scripts only from this server (plus its one
inline script, by hash) and talk only to this server, so the browser itself enforces "no CDN".
Each file's URL carries a hash of its content, so browsers may cache it for good and a refresh
of the vendored files is picked up at once.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from graph.assets import graphiql_dir, web_app_dir

ASSETS_DIR = graphiql_dir()
# The web app's icon, also served at /favicon.ico: browsers ask for that path on every page
# without an icon link (GraphiQL, the JSON probes), and a 404 per visit is noise in the log.
FAVICON = web_app_dir() / "favicon.svg"
ASSET_ROUTE = "graphiql-asset"
SCRIPTS = (
    "react.production.min.js",
    "react-dom.production.min.js",
    "graphiql.min.js",
    "plugin-explorer.umd.js",
)
STYLES = ("graphiql.min.css", "plugin-explorer.css")
CONTENT_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
IMMUTABLE = "public, max-age=31536000, immutable"

# Headers are not persisted: a pasted bearer token lives as long as the page, as in the web
# app, rather than staying in localStorage for whoever uses the browser next.
BOOT_SCRIPT = """
const DEFAULT_QUERY = `# movierec's GraphQL API. Run with Ctrl-Enter or the play button.
#
# Fields about "me" need a token. Get one with
#   mutation { login(username: "...", password: "...") { ... on AuthPayload { token } } }
# then put it in the Headers tab below as
#   {"Authorization": "Bearer <token>"}

{
  genres
}
`;
ReactDOM.createRoot(document.getElementById("graphiql")).render(
  React.createElement(GraphiQL, {
    fetcher: GraphiQL.createFetcher({ url: window.location.pathname }),
    plugins: [GraphiQLPluginExplorer.explorerPlugin()],
    defaultQuery: DEFAULT_QUERY,
    defaultEditorToolsVisibility: "headers",
    isHeadersEditorEnabled: true,
    shouldPersistHeaders: false,
  }),
);
"""

BOOT_SCRIPT_HASH = base64.b64encode(hashlib.sha256(BOOT_SCRIPT.encode()).digest()).decode()
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        f"script-src 'self' 'sha256-{BOOT_SCRIPT_HASH}'",
        # GraphiQL's components set inline styles; its fonts are data: URLs in its stylesheet.
        "style-src 'self' 'unsafe-inline'",
        "font-src data:",
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>movierec GraphiQL</title>
<link rel="icon" href="/favicon.ico" type="image/svg+xml">
{styles}
<style>body {{ margin: 0; }} #graphiql {{ height: 100vh; }}</style>
</head>
<body>
<div id="graphiql">Loading GraphiQL…</div>
{scripts}
<script>{boot}</script>
</body>
</html>
"""


def content_version(name: str) -> str:
    return hashlib.sha256((ASSETS_DIR / name).read_bytes()).hexdigest()[:16]


VERSIONS = {name: content_version(name) for name in (*SCRIPTS, *STYLES)}


class LocalGraphiQL:
    """The IDE page of a Strawberry view (its ``render_graphql_ide`` hook), naming the files
    that ``asset_route`` serves."""

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        def url(name: str) -> str:
            path = request.url_for(ASSET_ROUTE, name=name).path
            return f"{path}?v={VERSIONS[name]}"

        page = PAGE.format(
            styles="\n".join(f'<link rel="stylesheet" href="{url(name)}">' for name in STYLES),
            scripts="\n".join(f'<script src="{url(name)}"></script>' for name in SCRIPTS),
            boot=BOOT_SCRIPT,
        )
        return HTMLResponse(page, headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY})


def asset_route(endpoint: str) -> Route:
    """GET ``<endpoint>/graphiql/<file>``: the page's scripts and styles."""
    return Route(f"{endpoint}/graphiql/{{name}}", _asset, methods=["GET"], name=ASSET_ROUTE)


async def _asset(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in VERSIONS:
        return JSONResponse({"message": f"GraphiQL has no file {name!r}"}, status_code=404)
    return FileResponse(
        ASSETS_DIR / name,
        media_type=CONTENT_TYPES[Path(name).suffix],
        headers={"Cache-Control": IMMUTABLE},
    )
