"""A wheel of the project, installed (not editable) into a fresh virtualenv, works from anywhere.

The wheel is built from the files a commit would hold, installed with ``--no-deps`` into a new
virtualenv whose third-party packages come from this project's ``.venv`` (a ``.pth`` line:
compiling scikit-surprise from PyPI would take minutes and prove nothing about movierec). Every
command then runs from an unrelated folder with a fresh ``HOME``: no checkout on ``sys.path``,
no settings, so the store, the model and the secret must go to the user's data folder and the
web app and GraphiQL must come out of the installed package.
"""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import httpx
import pytest

from tests.conftest import PROJECT_ROOT
from tests.etl.conftest import write_movielens
from tests.live_server import free_port, wait_for
from tests.recommender.synthetic import synthetic_ratings

pytestmark = [pytest.mark.install, pytest.mark.timeout(600)]

# What the wheel is built from: the project's metadata and its packages.
SOURCES = ("pyproject.toml", "README.md", "movierec", "data", "etl", "recommender", "graph")
READY_TIMEOUT_S = 120
COMMAND_TIMEOUT_S = 300


def run(command: list[str], **kwargs: object) -> str:
    """Run ``command``; on failure the test fails with its output, not a bare exit code."""
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S, check=False, **kwargs
    )
    if done.returncode != 0:
        pytest.fail(f"{command} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def build_wheel(tmp_path: Path) -> Path:
    """Copy what git would commit (tracked or new, never ignored) and build a wheel of it.

    Building from a copy keeps setuptools' ``build/`` out of the checkout, and a stale file
    there out of the wheel.
    """
    source = tmp_path / "source"
    listed = run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z", "--", *SOURCES],
        cwd=PROJECT_ROOT,
    )
    for name in filter(None, listed.split("\0")):
        if (PROJECT_ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            (source / name).write_bytes((PROJECT_ROOT / name).read_bytes())
    wheels = tmp_path / "wheels"
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps"]
    run([*pip_wheel, "--no-build-isolation", "--wheel-dir", str(wheels), str(source)])
    (wheel,) = wheels.glob("movierec-*.whl")
    return wheel


def fresh_venv(tmp_path: Path, wheel: Path) -> Path:
    """A new virtualenv holding the wheel, borrowing third-party packages from ``.venv``."""
    root = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(root)
    python = root / "bin" / "python"
    site = Path(
        run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"]).strip()
    )
    borrowed = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    (site / "borrowed-dependencies.pth").write_text("\n".join(sorted(borrowed)) + "\n")
    pip_install = [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet"]
    run([*pip_install, "--no-deps", "--no-index", str(wheel)])
    return root


def write_ratings_folder(directory: Path) -> None:
    """A MovieLens-shaped folder small enough to load and train on in seconds."""
    frame = synthetic_ratings(n_users=30, n_movies=40, per_user=15, seed=4)
    movie_ids = sorted(frame["movie_id"].unique().tolist())
    write_movielens(
        directory,
        combined=False,
        movies=["movieId,title,genres", *(f"{m},Movie {m} (2000),Drama|Comedy" for m in movie_ids)],
        links=["movieId,imdbId,tmdbId", *(f"{m},{m:07d},{m}" for m in movie_ids)],
        ratings=[
            "userId,movieId,rating,timestamp",
            *(f"{u},{m},{r:.1f},{t}" for u, m, r, t in frame.itertuples(index=False)),
        ],
        tags=["userId,movieId,tag,timestamp"],
    )


@pytest.fixture
def installed(tmp_path: Path) -> tuple[Path, dict[str, str], Path]:
    """(virtualenv, environment, an unrelated working folder) with the wheel installed."""
    root = fresh_venv(tmp_path, build_wheel(tmp_path))
    home = tmp_path / "home"
    elsewhere = tmp_path / "elsewhere"
    home.mkdir()
    elsewhere.mkdir()
    env = {
        "PATH": f"{root / 'bin'}:/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "OPENBLAS_NUM_THREADS": "1",
    }
    return root, env, elsewhere


def test_the_installed_wheel_loads_trains_and_serves_from_anywhere(
    installed: tuple[Path, dict[str, str], Path], tmp_path: Path
) -> None:
    root, env, elsewhere = installed
    python, movierec = str(root / "bin" / "python"), str(root / "bin" / "movierec")
    where = run(
        [python, "-c", "import data, graph, movierec; print(graph.__file__, movierec.__file__)"],
        cwd=elsewhere,
        env=env,
    ).split()
    assert all(Path(module).is_relative_to(root) for module in where), where

    ratings = tmp_path / "ratings"
    write_ratings_folder(ratings)
    run([movierec, "etl", "--movielens", str(ratings)], cwd=elsewhere, env=env)
    run([movierec, "train"], cwd=elsewhere, env=env)
    state = Path(env["HOME"]) / ".local" / "share" / "movierec"
    assert (state / "movierec.sqlite3").is_file()
    assert (state / "models" / "LATEST").is_file()
    assert list(elsewhere.iterdir()) == []

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            [movierec, "serve", "--port", str(port), "--workers", "1"],
            cwd=elsewhere,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
        )
    try:
        wait_for(
            server,
            lambda: httpx.get(f"{url}/healthz", timeout=2).status_code == 200,
            timeout=READY_TIMEOUT_S,
            what="movierec serve not healthy",
            log=log.read_text,
        )
        with httpx.Client(base_url=url, timeout=30) as http:
            assert http.get("/readyz").json()["model"]["kind"] == "model"

            page = http.get("/")
            assert page.status_code == 200
            assert '<script type="module"' in page.text
            assert http.get("/js/main.js").status_code == 200

            ide = http.get("/graphql", headers={"Accept": "text/html"})
            assert ide.status_code == 200
            script = next(
                line.split('"')[1] for line in ide.text.splitlines() if "graphiql.min.js" in line
            )
            assert "GraphiQL" in http.get(script).text

            answer = http.post("/graphql", json={"query": "{ genres }"}).json()
            assert answer == {"data": {"genres": ["Comedy", "Drama"]}}

            login = http.post("/login", json={"username": "user1", "password": "pass"})
            assert login.json() == {"message": "Success", "movies": [], "status": 200, "userId": 1}
            rated = http.get("/user/1/movies").json()
            assert rated["status"] == 200
            assert len(rated["movies"]) == 15
            recommended = http.get("/user/1/recommendations").json()
            assert recommended["status"] == 200
            ids = [movie["movieId"] for movie in recommended["movies"]]
            assert len(ids) == 10
            assert not set(ids) & {movie["movieId"] for movie in rated["movies"]}
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    assert (state / "secret.key").is_file()
