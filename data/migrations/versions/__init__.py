"""Alembic revisions, one file each; a package only so that the wheel ships them."""
