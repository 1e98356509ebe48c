"""The rules (docs/rules.md) as plain Python.

Nothing here does I/O or imports Flask, the LINE SDK or SQLAlchemy (tests check): functions
take data and `now`, and return decisions.
"""
