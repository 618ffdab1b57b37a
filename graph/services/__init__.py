"""Plain classes behind both the GraphQL resolvers and the legacy REST handlers.

Nothing here knows HTTP or GraphQL: each service takes an engine and plain values, so the two
front ends cannot drift apart and every rule is testable without a server.
"""
