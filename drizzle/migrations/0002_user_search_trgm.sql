-- Fuzzy user search (GET /api/users/search): trigram similarity on handle and display name.
-- Kept out of the drizzle schema: the operator class (gin_trgm_ops) needs the extension first.
CREATE EXTENSION IF NOT EXISTS pg_trgm;--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "users_handle_trgm_idx" ON "users" USING gin (lower("handle") gin_trgm_ops);--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "users_display_name_trgm_idx" ON "users" USING gin (lower("display_name") gin_trgm_ops);
