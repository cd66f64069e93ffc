import { eq, sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { equalsIgnoringCase, follows, liveSessions, PgErrorCode, stageInvites, users } from '../src/index';
import { createTestDb, type TestDb } from '../src/testing';
import { expectRefused, insertSession, insertUser, kinds } from './helpers';

const { uniqueViolation, checkViolation } = PgErrorCode;

describe.each(kinds)('constraints on %s', (kind) => {
  let testDb: TestDb;
  beforeEach(async () => {
    testDb = await createTestDb(kind);
  });
  afterEach(async () => {
    await testDb.close();
  });

  it('refuses a handle that differs from a taken one only by case', async () => {
    const { db } = testDb;
    await insertUser(db, { handle: 'Alice' });
    await expectRefused(insertUser(db, { handle: 'alice' }), uniqueViolation, 'users_handle_lower_key');
    await expectRefused(insertUser(db, { handle: 'ALICE' }), uniqueViolation, 'users_handle_lower_key');
    await insertUser(db, { handle: 'Alice2' });
    const found = await db.select().from(users).where(equalsIgnoringCase(users.handle, 'aLiCe'));
    expect(found.map((user) => user.handle)).toEqual(['Alice']);
  });

  it('refuses an email that differs from a taken one only by case', async () => {
    const { db } = testDb;
    await insertUser(db, { email: 'Bob@Example.test' });
    await expectRefused(insertUser(db, { email: 'bob@example.TEST' }), uniqueViolation, 'users_email_lower_key');
  });

  it('refuses a self-follow', async () => {
    const { db } = testDb;
    const [alice, bob] = [await insertUser(db), await insertUser(db)];
    await expectRefused(
      db.insert(follows).values({ followerId: alice.id, followeeId: alice.id }),
      checkViolation,
      'follows_not_self_check',
    );
    await db.insert(follows).values({ followerId: alice.id, followeeId: bob.id });
    expect(await db.select().from(follows)).toHaveLength(1);
  });

  it('refuses a second pending invite for the same invitee and session', async () => {
    const { db } = testDb;
    const [host, guest] = [await insertUser(db), await insertUser(db)];
    const [first, second] = [await insertSession(db, host.id), await insertSession(db, host.id)];
    const invite = (sessionId: string) => ({
      sessionId,
      hostId: host.id,
      inviteeId: guest.id,
      deadline: new Date(Date.now() + 30_000),
    });
    const [pending] = await db.insert(stageInvites).values(invite(first.id)).returning();
    await expectRefused(db.insert(stageInvites).values(invite(first.id)), uniqueViolation, 'stage_invites_one_pending_key');
    // Another session may ring the same viewer, and once answered the host may call again.
    await db.insert(stageInvites).values(invite(second.id));
    await db.update(stageInvites).set({ status: 'rejected', answeredAt: new Date() }).where(eq(stageInvites.id, pending!.id));
    await db.insert(stageInvites).values(invite(first.id));
    expect(await db.select().from(stageInvites)).toHaveLength(3);
  });

  it('refuses an invite of the host by themselves', async () => {
    const { db } = testDb;
    const host = await insertUser(db);
    const session = await insertSession(db, host.id);
    await expectRefused(
      db.insert(stageInvites).values({ sessionId: session.id, hostId: host.id, inviteeId: host.id, deadline: new Date() }),
      checkViolation,
      'stage_invites_not_self_check',
    );
  });

  it('keeps follower and following counts from going negative', async () => {
    const { db } = testDb;
    const user = await insertUser(db, { followerCount: 1 });
    const where = eq(users.id, user.id);
    await db.update(users).set({ followerCount: sql`${users.followerCount} - 1` }).where(where);
    await expectRefused(
      db.update(users).set({ followerCount: sql`${users.followerCount} - 1` }).where(where),
      checkViolation,
      'users_follower_count_check',
    );
    await expectRefused(
      db.update(users).set({ followingCount: sql`${users.followingCount} - 1` }).where(where),
      checkViolation,
      'users_following_count_check',
    );
    const [row] = await db.select().from(users).where(eq(users.id, user.id));
    expect(row).toMatchObject({ followerCount: 0, followingCount: 0 });
  });

  it('lets a host be live in one session at a time', async () => {
    const { db } = testDb;
    const host = await insertUser(db);
    await insertSession(db, host.id, { status: 'live' });
    await expectRefused(insertSession(db, host.id, { status: 'live' }), uniqueViolation, 'live_sessions_one_live_per_host_key');
    await insertSession(db, host.id, { status: 'ended' });
    await insertSession(db, (await insertUser(db)).id, { status: 'live' });
    expect(await db.select().from(liveSessions).where(eq(liveSessions.status, 'live'))).toHaveLength(2);
  });

  it('refuses a title over 200 characters', async () => {
    const { db } = testDb;
    const host = await insertUser(db);
    await insertSession(db, host.id, { title: 'x'.repeat(200) });
    await expectRefused(insertSession(db, host.id, { title: 'x'.repeat(201) }), checkViolation, 'live_sessions_title_check');
  });
});
