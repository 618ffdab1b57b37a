"""The store reads the report and the model commands share."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Connection

from data.ratings import ratings_frame
from movierec.commands.guard import CommandError


def nonempty_ratings(conn: Connection) -> pd.DataFrame:
    """Every rating as the recommender's frame; an empty store is the user's to fix, so it is a
    message saying how rather than a model or a chart of nothing."""
    frame = ratings_frame(conn)
    if frame.empty:
        raise CommandError("the store holds no ratings; run `movierec etl` first")
    return frame
