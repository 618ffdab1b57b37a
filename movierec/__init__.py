"""movierec: the application root that wires data, etl, recommender and graph together.

Only this package reads the environment (``settings``) and parses the command line (``cli``);
every other package receives plain values, so it can be tested and reused without either.
"""
