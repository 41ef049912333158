-- Managing callbacks needs the new `callbacks` scope (issue 10: a key with no
-- scope could redirect its bot's events). Keys that already held every other
-- scope but admin get it, so nothing that worked stops; keys deliberately
-- narrowed do not. Scopes are stored space-separated in storage/keys.py's order,
-- `callbacks` just before `admin`.
UPDATE api_keys
SET scopes = trim(replace(' ' || scopes || ' ', ' admin ', ' ')) || ' callbacks'
    || CASE WHEN strpos(' ' || scopes || ' ', ' admin ') > 0 THEN ' admin' ELSE '' END
WHERE strpos(' ' || scopes || ' ', ' profiles:read ') > 0
  AND strpos(' ' || scopes || ' ', ' profiles:write ') > 0
  AND strpos(' ' || scopes || ' ', ' ledger:read ') > 0
  AND strpos(' ' || scopes || ' ', ' ledger:write ') > 0
  AND strpos(' ' || scopes || ' ', ' reputation ') > 0
  AND strpos(' ' || scopes || ' ', ' settings ') > 0
  AND strpos(' ' || scopes || ' ', ' callbacks ') = 0;
