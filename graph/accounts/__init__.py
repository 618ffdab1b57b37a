"""Accounts: the ``User`` type, ``viewer``, and signing up, in and out with their errors."""
