"""The store: table definitions, engine, schema versions (Alembic) and the queries the app needs.

Knows SQLAlchemy and nothing above it: no GraphQL, no models, no CSV parsing.
"""
