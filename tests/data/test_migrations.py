"""Alembic keeps the schema: head equals data/schema.py, older stores are upgraded with their rows,
anything else is refused with one line saying what was found and what to run. On SQLite, and on
PostgreSQL when MOVIEREC_TEST_POSTGRES_URL is set."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, insert, inspect, select, text
from sqlalchemy.exc import DBAPIError

from data import migrations
from data.db import make_engine, open_store, store_exists
from data.migrations import StoreError
from data.migrations.__main__ import new_revision
from data.schema import metadata
from tests.data.fixtures import build_previous_release_store
from tests.data.fixtures import schema_1f75407 as released

# SQLite cannot reflect expression indexes, so autogenerate skips ux_users_username_lower there
# (with these warnings); test_usernames_are_unique_case_insensitively checks the index exists.
pytestmark = [
    pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression"),
    pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index"),
]

NEXT_REVISION = """
import sqlalchemy as sa
from alembic import op

revision = "{id}"
down_revision = "{down}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("notes", sa.Column("id", sa.Integer(), primary_key=True))
    {extra}


def downgrade() -> None:
    op.drop_table("notes")
"""


@dataclass(frozen=True)
class NextRevision:
    """The revision after this release's head, as the next release will ship it."""

    down: str
    id: str
    folder: Path

    def write(self, extra: str = "") -> None:
        source = NEXT_REVISION.format(id=self.id, down=self.down, extra=extra)
        (self.folder / f"{self.id}_add_notes.py").write_text(source)


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite3'}"
    found: str = request.getfixturevalue("postgres_url")
    return found


@pytest.fixture
def plain(url: str) -> Iterator[Engine]:
    """An engine on the database, with no schema check: to build and inspect stores by hand."""
    engine = make_engine(url)
    yield engine
    engine.dispose()


def _schema_diff(engine: Engine) -> list[object]:
    with engine.connect() as conn:
        return list(compare_metadata(MigrationContext.configure(conn), metadata))


def _revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        heads = MigrationContext.configure(conn).get_current_heads()
    return heads[0] if heads else None


def _rows(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    """Every row of the previous release's tables, in its columns (``created_at`` left out: set
    by now()), so the comparison holds whatever later revisions add."""
    found = {}
    with engine.connect() as conn:
        for table in released.metadata.sorted_tables:
            if table.name == "schema_version":
                continue
            columns = [column for column in table.columns if column.name != "created_at"]
            found[table.name] = [tuple(row) for row in conn.execute(select(*columns))]
    return found


@pytest.fixture
def next_revision(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> NextRevision:
    """This release's migrations copied, to be served from; a test writes the next revision."""
    folder = tmp_path / "migrations"
    shutil.copytree(migrations.SCRIPTS, folder, ignore=shutil.ignore_patterns("__pycache__"))
    head = migrations.head()
    monkeypatch.setattr(migrations, "SCRIPTS", folder)
    return NextRevision(down=head, id=f"{int(head) + 1:04d}", folder=folder / "versions")


def test_a_new_store_is_built_at_head_and_head_equals_schema_py(url: str, plain: Engine) -> None:
    open_store(url, create=True).dispose()
    assert _revision(plain) == migrations.head()
    assert _schema_diff(plain) == []
    assert "schema_version" not in inspect(plain).get_table_names()
    assert "schema_version" not in metadata.tables


def test_a_store_of_the_previous_release_is_upgraded_keeping_its_rows(
    url: str, plain: Engine
) -> None:
    build_previous_release_store(plain)
    before = _rows(plain)
    assert store_exists(url)
    with pytest.raises(StoreError, match=r"before Alembic.*run `movierec db upgrade`"):
        open_store(url)
    open_store(url, create=True).dispose()
    assert _revision(plain) == migrations.head()
    assert "schema_version" not in inspect(plain).get_table_names()
    assert _schema_diff(plain) == []
    assert _rows(plain) == before
    assert before["ratings"] == [(1, 1, 4.5, 964982703)]
    open_store(url).dispose()


def test_a_store_behind_head_is_refused_then_upgraded(
    url: str, plain: Engine, next_revision: NextRevision
) -> None:
    open_store(url, create=True).dispose()
    next_revision.write()
    with pytest.raises(
        StoreError,
        match=(
            f"revision {next_revision.down}, this movierec needs {next_revision.id}; "
            "run `movierec db upgrade`"
        ),
    ):
        open_store(url)
    open_store(url, create=True).dispose()
    assert _revision(plain) == next_revision.id
    assert "notes" in inspect(plain).get_table_names()


def test_a_failed_upgrade_leaves_the_store_as_it_was(
    url: str, plain: Engine, next_revision: NextRevision
) -> None:
    open_store(url, create=True).dispose()
    next_revision.write(extra='raise RuntimeError("the upgrade broke half-way")')
    with pytest.raises(RuntimeError, match="half-way"):
        open_store(url, create=True)
    assert _revision(plain) == next_revision.down
    assert "notes" not in inspect(plain).get_table_names()


def test_a_failed_adoption_of_a_previous_release_store_keeps_its_version_table(
    url: str, plain: Engine, next_revision: NextRevision
) -> None:
    next_revision.write(extra="raise RuntimeError")
    build_previous_release_store(plain)
    with pytest.raises(RuntimeError):
        open_store(url, create=True)
    tables = set(inspect(plain).get_table_names())
    assert "schema_version" in tables
    assert "notes" not in tables
    assert _revision(plain) is None


def test_an_alembic_database_of_another_application_is_foreign(url: str, plain: Engine) -> None:
    with plain.begin() as conn:
        conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
        conn.execute(text("INSERT INTO alembic_version VALUES ('ae1027a6acf')"))
        conn.execute(text("CREATE TABLE invoices (id INTEGER)"))
    with pytest.raises(StoreError, match=r"not a movierec database: Alembic revision ae1027a6acf"):
        open_store(url, create=True)


@pytest.mark.parametrize(
    ("version", "message"),
    [(None, "not a movierec database: schema_version table is empty"), (8, "schema version 8")],
)
def test_a_pre_alembic_version_table_other_than_release_1_is_refused(
    url: str, plain: Engine, version: int | None, message: str
) -> None:
    build_previous_release_store(plain)
    with plain.begin() as conn:
        conn.execute(text("DELETE FROM schema_version"))
        if version is not None:
            conn.execute(insert(released.schema_version).values(version=version))
    with pytest.raises(StoreError, match=message):
        open_store(url, create=True)


def test_make_migration_writes_the_next_numbered_revision(next_revision: NextRevision) -> None:
    """Nothing changed in data/schema.py: the generated revision follows head and does nothing."""
    new_revision("nothing yet")
    source = (next_revision.folder / f"{next_revision.id}_nothing_yet.py").read_text()
    assert f"revision = '{next_revision.id}'" in source
    assert f"down_revision = '{next_revision.down}'" in source
    upgrade = source.split("def upgrade() -> None:")[1].split("def downgrade")[0]
    assert "    pass" in upgrade
    assert "op." not in upgrade


def test_the_migrations_ship_in_the_data_package() -> None:
    """The wheel takes what setuptools finds: env.py's folder and versions/ must be packages,
    and the revisions plain .py files Alembic reads from there."""
    assert (migrations.SCRIPTS / "__init__.py").is_file()
    assert (migrations.SCRIPTS / "versions" / "__init__.py").is_file()
    assert migrations.head() == max(
        path.name.split("_")[0] for path in (migrations.SCRIPTS / "versions").glob("0*.py")
    )


def _ratings_layout(engine: Engine) -> tuple[bool, list[str]]:
    """Whether one user's ratings are stored together with every column (SQLite: a WITHOUT
    ROWID table; PostgreSQL: the primary key's index INCLUDEs rating and rated_at), and the
    table's other indexes."""
    found = inspect(engine)
    indexes = sorted(str(index["name"]) for index in found.get_indexes("ratings"))
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            options = found.get_table_options("ratings")
            return options.get("sqlite_with_rowid", True) is False, indexes
        definition = conn.execute(
            text(
                "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i "
                "WHERE i.indrelid = 'ratings'::regclass AND i.indisprimary"
            )
        ).scalar_one()
    return definition.endswith("(user_id, movie_id) INCLUDE (rating, rated_at)"), indexes


KEPT_RATINGS_INDEXES = ["ix_ratings_movie", "ix_ratings_time", "ix_ratings_user_time"]
COVERING_0003 = "ix_ratings_user_movie_rating"


def test_a_new_store_keeps_ratings_in_user_order_with_every_column(url: str, plain: Engine) -> None:
    open_store(url, create=True).dispose()
    assert _ratings_layout(plain) == (True, KEPT_RATINGS_INDEXES)


def test_a_store_at_0004_is_rebuilt_into_the_clustered_ratings_and_back(
    url: str, plain: Engine
) -> None:
    """0005 on a store with ratings: the rows survive the rebuild (SQLite) or the new key
    (PostgreSQL), the covering index of 0003 goes, the result equals data/schema.py, and the
    downgrade restores 0004's layout with the same rows."""
    with plain.begin() as conn:
        command.upgrade(migrations.config(conn), "0004")
        for statement in (
            "INSERT INTO movies (id, title, movielens_title) VALUES (1, 'A', 'A'), (2, 'B', 'B')",
            "INSERT INTO users (id, username, password_hash) VALUES (7, 'a', 'x'), (3, 'b', 'x')",
            "INSERT INTO ratings VALUES (7, 2, 4.5, 30), (3, 1, 0.5, 10), (7, 1, 3.0, 20)",
        ):
            conn.execute(text(statement))
    assert _ratings_layout(plain) == (False, sorted([*KEPT_RATINGS_INDEXES, COVERING_0003]))
    open_store(url, create=True).dispose()
    assert _revision(plain) == migrations.head()
    assert _ratings_layout(plain) == (True, KEPT_RATINGS_INDEXES)
    assert _schema_diff(plain) == []
    expected = [(3, 1, 0.5, 10), (7, 1, 3.0, 20), (7, 2, 4.5, 30)]
    with plain.connect() as conn:
        assert (
            conn.execute(text("SELECT * FROM ratings ORDER BY user_id, movie_id")).all() == expected
        )
        # The half-star check and the foreign keys came along.
        for bad in ("(3, 2, 4.2, 1)", "(99, 2, 4.0, 1)"):
            with pytest.raises(DBAPIError):
                conn.execute(text(f"INSERT INTO ratings VALUES {bad}"))
            conn.rollback()
    with plain.begin() as conn:
        command.downgrade(migrations.config(conn), "0004")
    assert _ratings_layout(plain) == (False, sorted([*KEPT_RATINGS_INDEXES, COVERING_0003]))
    with plain.connect() as conn:
        assert (
            conn.execute(text("SELECT * FROM ratings ORDER BY user_id, movie_id")).all() == expected
        )
