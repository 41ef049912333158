"""SQL of reads and non-ledger writes, one module per API area."""
