ALTER TABLE "stage_invites" ADD COLUMN "node_id" text;--> statement-breakpoint
CREATE INDEX "stage_invites_pending_deadline_idx" ON "stage_invites" USING btree ("deadline") WHERE status = 'pending';