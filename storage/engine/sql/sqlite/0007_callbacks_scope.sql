-- Managing callbacks needs the new `callbacks` scope (issue 10: a key with no
-- scope could redirect its bot's events). Keys that already held every other
-- scope but admin get it, so nothing that worked stops; keys deliberately
-- narrowed do not. Scopes are stored space-separated in storage/keys.py's order,
-- `callbacks` just before `admin`.
UPDATE api_keys
SET scopes = trim(replace(' ' || scopes || ' ', ' admin ', ' ')) || ' callbacks'
    || CASE WHEN instr(' ' || scopes || ' ', ' admin ') > 0 THEN ' admin' ELSE '' END
WHERE instr(' ' || scopes || ' ', ' profiles:read ') > 0
  AND instr(' ' || scopes || ' ', ' profiles:write ') > 0
  AND instr(' ' || scopes || ' ', ' ledger:read ') > 0
  AND instr(' ' || scopes || ' ', ' ledger:write ') > 0
  AND instr(' ' || scopes || ' ', ' reputation ') > 0
  AND instr(' ' || scopes || ' ', ' settings ') > 0
  AND instr(' ' || scopes || ' ', ' callbacks ') = 0;
