"""How a MovieLens title reads to people: the article in front, the alternatives apart.

MovieLens files titles the way a library catalogue does, so that they sort by their first
significant word: "Godfather, The", "Misérables, Les", "Atalante, L'". Alternative titles
follow in parentheses, foreign-language ones as they are ("Cité des enfants perdus, La") and
English ones marked "a.k.a." ("Seven (a.k.a. Se7en)"). A person expects "The Godfather" and
"Seven", with "Se7en" offered as another name. These functions work on the store's ``title``
(the MovieLens title without its year) and never touch the year, which is a column of its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Articles MovieLens moves behind a comma, in the languages its titles use. A word is listed only
# when no real title ends in ", <word>" unless that word is a moved article (tests check every
# title of ml-latest-small), so "Da" ("Hip Hop Witch, Da") stays out: it is slang, not grammar.
ARTICLES = (
    # English, French, Spanish, Italian, German, Dutch, Scandinavian, Portuguese.
    *("The", "A", "An"),
    *("Le", "La", "Les", "L'", "L’", "Un", "Une"),
    *("El", "Los", "Las", "Una"),
    *("Il", "I", "Lo", "Gli", "Uno"),
    *("Der", "Die", "Das", "Ein", "Eine"),
    *("De", "Het", "Een"),
    *("Den", "Det", "Ett", "En"),
    *("O", "Os", "As"),
)
_ELIDED = ("L'", "L’")  # joined to the next word without a space: "L'Atalante"

_MOVED_ARTICLE = re.compile(
    r"^(?P<rest>.*\S),\s*(?P<article>" + "|".join(map(re.escape, ARTICLES)) + r")$"
)
_LEADING_ARTICLE = re.compile(
    r"^(?P<article>"
    + "|".join(re.escape(a) for a in _ELIDED)
    + r"|(?:"
    + "|".join(re.escape(a) for a in ARTICLES if a not in _ELIDED)
    + r") )(?P<rest>\S.*)$"
)
# A trailing parenthesised group after a space; "(500) Days of Summer" and "Frontière(s)" keep
# their parentheses because nothing precedes the first or a letter touches the second.
_ALTERNATIVE = re.compile(r"^(?P<rest>.*\S)\s+\((?P<alternative>[^()]+)\)$")
_AKA = re.compile(r"^a\.?k\.?a\.?\s+", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Title:
    """A title as people read it: ``display`` and, apart, the other names it goes by."""

    display: str
    also_known_as: tuple[str, ...]


def readable_title(title: str) -> Title:
    """``"City of Lost Children, The (Cité des enfants perdus, La)"`` →
    ``Title("The City of Lost Children", ("La Cité des enfants perdus",))``."""
    primary, alternatives = split_alternatives(title.strip())
    return Title(
        article_in_front(primary),
        tuple(article_in_front(_AKA.sub("", alternative)) for alternative in alternatives),
    )


def split_alternatives(title: str) -> tuple[str, tuple[str, ...]]:
    """The primary title and the parenthesised alternatives after it, in their order."""
    alternatives: list[str] = []
    while match := _ALTERNATIVE.match(title):
        title = match["rest"]
        alternatives.insert(0, match["alternative"].strip())
    return title, tuple(alternatives)


def article_in_front(name: str) -> str:
    """``"Godfather, The"`` → ``"The Godfather"``; ``"Atalante, L'"`` → ``"L'Atalante"``."""
    match = _MOVED_ARTICLE.match(name)
    if match is None:
        return name
    article = match["article"]
    return f"{article}{match['rest']}" if article in _ELIDED else f"{article} {match['rest']}"


def article_behind(name: str) -> str:
    """The inverse of :func:`article_in_front`, MovieLens' way: ``"The Godfather"`` →
    ``"Godfather, The"``. A name MovieLens files as it is ("The Godfather" never occurs there)
    cannot be told apart, so this serves the tests' round trip rather than the API."""
    match = _LEADING_ARTICLE.match(name)
    if match is None:
        return name
    return f"{match['rest']}, {match['article'].rstrip()}"
