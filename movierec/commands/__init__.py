"""The ``movierec`` subcommands, one module per command group; each function returns an exit code.

This is the layer that receives ``Settings``: it resolves them into plain values (a database
URL, folders, a seed) and passes those down to ``etl``, ``data`` and ``recommender``, which never
see settings. ``movierec.cli`` parses arguments and calls in here; ``guard.guarded`` turns the
errors a user can fix into one log line and exit code 1.

- ``ingest``: ``movierec etl``, ``movierec etl enrich``, ``movierec data download``
- ``report``: ``movierec report`` (store → frames → ``recommender.analysis``)
- ``training``: ``movierec train``, ``movierec evaluate`` (store → frames → ``recommender``)

``movierec serve`` lives in ``movierec.bootstrap``, which calls ``ingest`` and ``training`` on a
first start.
"""
