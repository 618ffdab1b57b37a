"""Training the served models on Apache Spark (``movierec train --engine spark``).

The Spark engine fits the item side of the served models where the ratings are (Parquet any
cluster node can read, or PostgreSQL over JDBC) and returns the same registered model classes
the NumPy engine does, so its artifact is the same format and the server cannot tell which
engine trained it. pyspark is an optional extra (``movierec[spark]``) and needs a Java 17+
runtime; nothing outside this package and the model classes' ``fit`` imports it.
"""
