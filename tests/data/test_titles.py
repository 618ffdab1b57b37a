"""Display titles: the article in front, a.k.a. and foreign titles apart, over every real title."""

from __future__ import annotations

import csv
import re
from collections import Counter
from pathlib import Path

import pytest

from data.titles import Title, article_behind, article_in_front, readable_title, split_alternatives
from etl.movielens import split_title


@pytest.mark.parametrize(
    ("stored", "display", "also_known_as"),
    [
        ("Godfather, The", "The Godfather", ()),
        ("Seven (a.k.a. Se7en)", "Seven", ("Se7en",)),
        ("Misérables, Les", "Les Misérables", ()),
        ("Atalante, L'", "L'Atalante", ()),
        ("Divo, Il", "Il Divo", ()),
        ("Baader Meinhof Komplex, Der", "Der Baader Meinhof Komplex", ()),
        ("Boot, Das (Boat, The)", "Das Boot", ("The Boat",)),
        ("Tin Drum, The (Blechtrommel, Die)", "The Tin Drum", ("Die Blechtrommel",)),
        (
            "Young and the Damned, The (Olvidados, Los)",
            "The Young and the Damned",
            ("Los Olvidados",),
        ),
        (
            "Vitelloni, I (a.k.a. The Young and the Passionate)",
            "I Vitelloni",
            ("The Young and the Passionate",),
        ),
        (
            "City of Lost Children, The (Cité des enfants perdus, La)",
            "The City of Lost Children",
            ("La Cité des enfants perdus",),
        ),
        (
            "Good, the Bad and the Ugly, The (Buono, il brutto, il cattivo, Il)",
            "The Good, the Bad and the Ugly",
            ("Il Buono, il brutto, il cattivo",),
        ),
        (
            "Bicycle Thieves (a.k.a. The Bicycle Thief) (a.k.a. The Bicycle Thieves) "
            "(Ladri di biciclette)",
            "Bicycle Thieves",
            ("The Bicycle Thief", "The Bicycle Thieves", "Ladri di biciclette"),
        ),
        ("Shawshank Redemption, The", "The Shawshank Redemption", ()),
        ("Eye for an Eye, An", "An Eye for an Eye", ()),
        ("'burbs, The", "The 'burbs", ()),
        # Left alone: parentheses that belong to the title, commas before ordinary words.
        ("(500) Days of Summer", "(500) Days of Summer", ()),
        ("Frontière(s)", "Frontière(s)", ()),
        ("Hello, Dolly!", "Hello, Dolly!", ()),
        ("I, Robot", "I, Robot", ()),
        ("Hip Hop Witch, Da", "Hip Hop Witch, Da", ()),
        ("sex, lies, and videotape", "sex, lies, and videotape", ()),
        (
            "European Vacation (aka National Lampoon's European Vacation)",
            "European Vacation",
            ("National Lampoon's European Vacation",),
        ),
        ("Asterix (a.k.a Asterix Conquers America)", "Asterix", ("Asterix Conquers America",)),
        ("Toy Story", "Toy Story", ()),
        ("  Heat ", "Heat", ()),
    ],
)
def test_readable_title(stored: str, display: str, also_known_as: tuple[str, ...]) -> None:
    assert readable_title(stored) == Title(display, also_known_as)


def test_the_article_must_be_a_whole_trailing_word_in_its_case() -> None:
    assert article_in_front("Godfather, the") == "Godfather, the"
    assert article_in_front("Theory, Then") == "Theory, Then"
    assert article_in_front(", The") == ", The"  # nothing to put it in front of
    assert article_in_front("X,The") == "The X"


def test_article_behind_undoes_article_in_front() -> None:
    assert article_behind("The Godfather") == "Godfather, The"
    assert article_behind("L'Atalante") == "Atalante, L'"
    assert article_behind("Toy Story") == "Toy Story"


def _words(text: str) -> Counter[str]:
    """Words without punctuation of the grammar: commas, parentheses, 'a.k.a.', elided L'."""
    return Counter(
        word
        for word in re.findall(r"L['’]|[^\s,()]+", text)
        if word.lower() not in {"a.k.a.", "a.k.a", "aka"}
    )


def _real_titles(movielens_dir: Path) -> list[str]:
    with (movielens_dir / "movies.csv").open(encoding="utf-8", newline="") as file:
        return [row["title"] for row in csv.DictReader(file)]


@pytest.mark.movielens
def test_every_real_title_reads_sensibly_and_round_trips(movielens_dir: Path) -> None:
    titles = _real_titles(movielens_dir)
    assert len(titles) == 9742
    moved: Counter[str] = Counter()
    for movielens_title in titles:
        stored, year = split_title(movielens_title)
        readable = readable_title(stored)
        # Never empty, never padded, never a year or an article left dangling at the end.
        for name in (readable.display, *readable.also_known_as):
            assert name, movielens_title
            assert name == name.strip(), movielens_title
            assert not re.search(r",\s*(The|A|An|La|Le|Les|L'|Il|Der|Die|Das|El)$", name)
            assert not re.search(r"\(\d{4}\)$", name), movielens_title
        # The year stays where it was: a field of its own, found in the MovieLens title.
        written = re.search(r"\((\d{4})[^()]*\)\s*$", movielens_title)
        assert year == (int(written[1]) if written else None), movielens_title
        # Nothing lost, nothing invented: the same words, rearranged.
        assert _words(readable.display) + sum(
            (_words(name) for name in readable.also_known_as), Counter()
        ) == _words(stored), movielens_title
        # Each name goes back to MovieLens' form.
        primary, alternatives = split_alternatives(stored)
        for original, shown in zip(
            (primary, *alternatives), (readable.display, *readable.also_known_as), strict=True
        ):
            original = re.sub(r"^a\.?k\.?a\.?\s+", "", original, flags=re.IGNORECASE)
            assert (article_behind(shown) if shown != original else shown) == original
            if shown != original:
                moved[original.rsplit(",", 1)[1].strip()] += 1
    # The articles MovieLens moves, as counted in ml-latest-small (primary and alternative names).
    expected = {"The": 1687, "A": 150, "An": 27, "La": 42, "Le": 37, "Les": 16, "L'": 13}
    expected |= {"Il": 13, "El": 11, "Der": 8, "Die": 6}
    assert {article: moved[article] for article in expected} == expected
    assert sum(moved.values()) == 2030


@pytest.mark.movielens
def test_the_real_titles_the_issue_names(movielens_dir: Path) -> None:
    by_title = {
        split_title(t)[0]: readable_title(split_title(t)[0]) for t in _real_titles(movielens_dir)
    }
    assert by_title["Godfather, The"] == Title("The Godfather", ())
    assert by_title["Seven (a.k.a. Se7en)"] == Title("Seven", ("Se7en",))
    assert by_title["Shawshank Redemption, The"].display == "The Shawshank Redemption"
