-- POST /v1/holds may carry an Idempotency-Key: repeating it (a client's retry, or the load
-- balancer's when a task died mid-request) answers the same hold instead of holding twice.
-- owner_key is sha256 of the customer and the key: exact bytes, so no collation folds two
-- customers' keys together. request_hash refuses the same key with other items.
ALTER TABLE holds ADD COLUMN IF NOT EXISTS owner_key CHAR(64) NULL,
    ADD COLUMN IF NOT EXISTS request_hash CHAR(64) NULL;
CREATE UNIQUE INDEX IF NOT EXISTS ux_holds_owner_key ON holds (owner_key);
