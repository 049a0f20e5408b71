-- A database belongs to one mode: the first server to use it records `sandbox` or `live`, and
-- a server of the other mode refuses to start on it (sandbox sessions must never be shown to a
-- live key, nor be payable for real). Keep in step with the other dialect.
CREATE TABLE paybridge_meta (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- The shopper's openid now lives in the browser that signed in (a sealed cookie), never on the
-- session: forget the ones stored before.
UPDATE checkout_sessions SET openid = NULL;
