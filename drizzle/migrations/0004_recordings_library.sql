CREATE TYPE "public"."recording_visibility" AS ENUM('public', 'private');--> statement-breakpoint
ALTER TABLE "recordings" ADD COLUMN "title" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "recordings" ADD COLUMN "visibility" "recording_visibility" DEFAULT 'public' NOT NULL;--> statement-breakpoint
ALTER TABLE "recordings" ADD COLUMN "size_bytes" bigint;--> statement-breakpoint
ALTER TABLE "recordings" ADD COLUMN "views" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "recordings" ADD COLUMN "master_key" text;--> statement-breakpoint
ALTER TABLE "recordings" ADD CONSTRAINT "recordings_title_check" CHECK (char_length("recordings"."title") <= 200);--> statement-breakpoint
ALTER TABLE "recordings" ADD CONSTRAINT "recordings_views_check" CHECK ("recordings"."views" >= 0);