"""In-memory read models (leaderboards, stats, flows), caught up from the database
on every read; storage/reads.py chooses between them and SQL."""
