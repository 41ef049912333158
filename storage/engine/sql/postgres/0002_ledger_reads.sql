-- GET /transaction?user_id= (and from/to naming a user) must find the user's
-- accounts in every guild, closed ones included (their history stays): the
-- 0001 index on user_id covers open profiles only.
CREATE INDEX accounts_user_all ON accounts (user_id) WHERE user_id IS NOT NULL;
