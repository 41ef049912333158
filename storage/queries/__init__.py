"""SQL statements, one module per API area: functions of (conn, ...) that both
engines run. The ledger's own tables are written by ledger/store.py."""
