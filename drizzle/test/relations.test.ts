import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { chatMessages, follows, liveSessions, pinnedMessages, recordings, stageInvites } from '../src/index';
import { createTestDb, type TestDb } from '../src/testing';
import { insertSession, insertUser, kinds } from './helpers';

describe.each(kinds)('relational queries on %s', (kind) => {
  let testDb: TestDb;
  beforeEach(async () => {
    testDb = await createTestDb(kind);
  });
  afterEach(async () => {
    await testDb.close();
  });

  it('follow both ways between users', async () => {
    const { db } = testDb;
    // A transaction is a `Db` too, so helpers written for `Db` run inside one.
    const [alice, bob] = await db.transaction(async (tx) => [await insertUser(tx, { handle: 'alice' }), await insertUser(tx, { handle: 'bob' })]);
    await db.insert(follows).values({ followerId: alice.id, followeeId: bob.id });
    const found = await db.query.users.findFirst({
      where: (user, { eq }) => eq(user.id, bob.id),
      with: { followers: { with: { follower: true } }, following: true },
    });
    expect(found?.followers.map((f) => f.follower.handle)).toEqual(['alice']);
    expect(found?.following).toEqual([]);
  });

  it('load a session with its host, recording, invites, chat and pinned message', async () => {
    const { db } = testDb;
    const [host, guest] = [await insertUser(db, { handle: 'host' }), await insertUser(db)];
    const session = await insertSession(db, host.id, { status: 'ended' });
    const [recording] = await db.insert(recordings).values({ sessionId: session.id, ownerId: host.id }).returning();
    await db.insert(stageInvites).values({ sessionId: session.id, hostId: host.id, inviteeId: guest.id, deadline: new Date() });
    const [message] = await db.insert(chatMessages).values({ sessionId: session.id, userId: guest.id, body: 'hi' }).returning();
    await db.insert(pinnedMessages).values({ sessionId: session.id, messageId: message!.id, pinnedBy: host.id });
    await db.update(liveSessions).set({ recordingId: recording!.id }).where(eq(liveSessions.id, session.id));

    const found = await db.query.liveSessions.findFirst({
      where: (s, ops) => ops.eq(s.id, session.id),
      with: { host: true, recording: true, stageInvites: true, chatMessages: true, pinnedMessage: { with: { message: true } } },
    });
    expect(found?.host.handle).toBe('host');
    expect(found?.recording?.renditions).toEqual([]);
    expect(found?.stageInvites).toHaveLength(1);
    expect(found?.chatMessages.map((m) => m.body)).toEqual(['hi']);
    expect(found?.pinnedMessage?.message.body).toBe('hi');
  });
});
