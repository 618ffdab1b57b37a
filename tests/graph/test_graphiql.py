"""GraphiQL at GET /graphql: a page whose every script and style this app serves itself."""

from __future__ import annotations

import base64
import hashlib
import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

from fastapi.testclient import TestClient

from graph.assets import graphiql_dir

VENDOR_README = graphiql_dir() / "README.md"
CONTENT_TYPES = {"script": "text/javascript", "stylesheet": "text/css"}


class PageParts(HTMLParser):
    """The files a page loads (scripts, stylesheets), its inline scripts, every URL it names."""

    def __init__(self) -> None:
        super().__init__()
        self.files: list[tuple[str, str]] = []  # (kind, url)
        self.inline_scripts: list[str] = []
        self.urls: list[str] = []
        self._in_inline_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        self.urls += [v for k, v in attrs if k in ("src", "href", "action") and v is not None]
        if tag == "script" and named.get("src"):
            self.files.append(("script", named["src"] or ""))
        elif tag == "script":
            self._in_inline_script = True
            self.inline_scripts.append("")
        elif tag == "link" and named.get("rel") == "stylesheet":
            self.files.append(("stylesheet", named.get("href") or ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_inline_script = False

    def handle_data(self, data: str) -> None:
        if self._in_inline_script:
            self.inline_scripts[-1] += data


def graphiql_page(http: TestClient) -> tuple[str, PageParts, str]:
    response = http.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    parts = PageParts()
    parts.feed(response.text)
    return response.text, parts, response.headers["content-security-policy"]


def vendored_sha256() -> dict[str, str]:
    """File name -> sha256, from the table in graph/web/vendor/graphiql/README.md."""
    rows = re.findall(r"^\| `([^`]+)` \|.*\| `([0-9a-f]{64})` \|$", VENDOR_README.read_text(), re.M)
    return dict(rows)


def test_the_page_loads_only_files_this_app_serves(http: TestClient) -> None:
    page, parts, _policy = graphiql_page(http)
    kinds = {kind for kind, _url in parts.files}
    assert kinds == {"script", "stylesheet"}
    assert "://" not in page, "the page names no other host"
    for url in parts.urls:
        assert not urlsplit(url).scheme, url
        assert not urlsplit(url).netloc, url
        assert url.startswith("/"), url
    for kind, url in parts.files:
        response = http.get(url)
        assert response.status_code == 200, url
        assert response.headers["content-type"].startswith(CONTENT_TYPES[kind]), url


def test_served_files_are_the_vendored_bytes_the_readme_lists(http: TestClient) -> None:
    _page, parts, _policy = graphiql_page(http)
    expected = vendored_sha256()
    served = {
        urlsplit(url).path.rsplit("/", 1)[-1]: hashlib.sha256(http.get(url).content).hexdigest()
        for _kind, url in parts.files
    }
    assert served == expected


def test_the_browser_may_run_the_page_and_nothing_from_elsewhere(http: TestClient) -> None:
    _page, parts, policy = graphiql_page(http)
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["connect-src"] == "'self'"
    assert "http" not in policy, "no other host is allowed"
    # The one inline script (GraphiQL's start) must be allowed by its hash, or the page stays blank.
    [boot] = parts.inline_scripts
    digest = base64.b64encode(hashlib.sha256(boot.encode()).digest()).decode()
    assert directives["script-src"] == f"'self' 'sha256-{digest}'"


def test_other_names_under_the_files_path_are_a_json_404(http: TestClient) -> None:
    for name in ("LICENSE-react", "update.sh", "README.md", "nope.js"):
        response = http.get(f"/graphql/graphiql/{name}")
        assert response.status_code == 404, name
        assert name in response.json()["message"]


def test_api_clients_still_get_json_from_get(http: TestClient) -> None:
    response = http.get("/graphql", params={"query": "{ genres }"})
    assert response.status_code == 200
    assert response.json()["data"]["genres"]


def test_the_page_fits_phones_and_its_icon_is_served(http: TestClient) -> None:
    page, _parts, _policy = graphiql_page(http)
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert '<link rel="icon" href="/favicon.ico" type="image/svg+xml">' in page
    # Browsers ask for /favicon.ico on any page without an icon link; it is not a 404 either.
    icon = http.get("/favicon.ico")
    assert icon.status_code == 200
    assert icon.headers["content-type"].startswith("image/svg+xml")
    assert icon.content.startswith(b"<svg")
