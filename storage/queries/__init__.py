"""SQL statements, one module per API area: functions of (conn, ...) that both
engines run. The ledger's own tables are written by ledger/store.py."""

NO_LIMIT = 2**63 - 1
"""A `LIMIT ?` that bounds nothing, on both engines: PostgreSQL refuses SQLite's -1
and SQLite PostgreSQL's NULL."""
