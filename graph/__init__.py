"""The HTTP side of movierec: GraphQL API, the iOS app's legacy REST shim, and the web app.

``app.create_app`` assembles one ASGI app: Strawberry's router at /graphql (``schema``,
``types/``), the probes, the legacy routes (``legacy``) and the static web folder at /. Both
front ends call the same plain services (``services/``), which read and write the store through
``data`` and rank through ``recommender``; resolvers only check who asks and wrap rows in types.
Nothing here reads the environment: ``movierec.bootstrap`` passes an ``AppConfig``.
"""
