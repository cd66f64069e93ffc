ALTER TABLE "users" ADD COLUMN "handle_skeleton" text;--> statement-breakpoint
-- Backfill: handleSkeleton (shared/src/handles.ts) of the existing ASCII handles, one character at
-- a time: case folded (I to l), m to rn, look-alike digits and i folded. When two accounts already
-- look alike, the older keeps the key and the newer is left null (its next handle change sets it).
UPDATE "users" AS u SET "handle_skeleton" = s.skeleton
FROM (
	SELECT "id", replace(translate("handle", 'ABCDEFGHIJKLNOPQRSTUVWXYZMi013457', 'abcdefghljklnopqrstuvwxyzmloleast'), 'm', 'rn') AS skeleton,
		row_number() OVER (PARTITION BY replace(translate("handle", 'ABCDEFGHIJKLNOPQRSTUVWXYZMi013457', 'abcdefghljklnopqrstuvwxyzmloleast'), 'm', 'rn') ORDER BY "created_at", "id") AS rank
	FROM "users"
) AS s
WHERE u."id" = s."id" AND s.rank = 1;--> statement-breakpoint
CREATE UNIQUE INDEX "users_handle_skeleton_key" ON "users" USING btree ("handle_skeleton");
