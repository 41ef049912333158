-- Room for the ledger's new kinds of entry (5 import, 6 purchase, 7 refund,
-- 8 reward, 9 season, and later ones). SQLite rebuilds the table; PostgreSQL
-- changes the CHECK in place.
ALTER TABLE ledger DROP CONSTRAINT ledger_kind_check;
ALTER TABLE ledger ADD CONSTRAINT ledger_kind_check CHECK (kind BETWEEN 1 AND 31);
