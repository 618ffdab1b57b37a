"""The HTTP side of movierec: GraphQL API, the iOS app's legacy REST shim, and the web app.

``app.create_app`` assembles one ASGI app: Strawberry's router at /graphql (``schema`` merges
the domains ``movies/``, ``accounts/``, ``ratings/`` and ``recommendations/``), the probes, the
legacy routes (``legacy``) and the static web folder at /. Both front ends call the same plain
services (``services/``), which read and write the store through ``data`` and rank through
``recommender``; resolvers only call them and wrap rows in types, while who may ask is declared
on each field (``permissions``).
Nothing here reads the environment: ``movierec.bootstrap`` passes an ``AppConfig``.
"""
