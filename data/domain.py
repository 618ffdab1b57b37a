"""Facts of the domain every layer shares; pure values, importing nothing, so that even
``recommender/`` (which never sees the store) can take them from here.

The rating scale is the one such fact today: the store's check constraint, the ETL's validation,
the API's check and the models' clipping all read it, so the four cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RatingScale:
    """Ratings from ``lowest`` to ``highest`` in steps of ``step``; ``step`` divides both."""

    lowest: float
    highest: float
    step: float

    @property
    def bounds(self) -> tuple[float, float]:
        """``(lowest, highest)``: what predictions are clipped to."""
        return self.lowest, self.highest

    @property
    def steps_per_unit(self) -> int:
        """How many steps make 1.0 (2 for half stars): SQL checks ``value * this`` is whole."""
        return round(1 / self.step)

    def allows(self, value: float) -> bool:
        """True for a value on the scale; NaN and infinities are not."""
        return self.lowest <= value <= self.highest and (value / self.step).is_integer()

    def describe(self) -> str:
        """The scale in words, for error messages: ``0.5 to 5.0 in steps of 0.5``."""
        return f"{self.lowest:.1f} to {self.highest:.1f} in steps of {self.step:g}"


RATING_SCALE = RatingScale(lowest=0.5, highest=5.0, step=0.5)

# MovieLens writes this in place of a movie's genres when it has none; the store keeps no genre
# row for such a movie and the legacy API writes the marker back.
NO_GENRES = "(no genres listed)"
