import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { goLiveFromStudio } from './studio';
import { chatBodies, chatOf, say, signedInPage } from './chat-page';
import { useStackAndBrowser } from './e2e-suite';

/** Where screenshots go (looked at by hand): /tmp by default. */
const SHOTS = process.env.PODLIVE_SCREENSHOTS ?? '/tmp';

type Marked = { liveToastAt?: number };

/**
 * Three people in one live: the host in the studio, two viewers on the viewer page. Chat both
 * ways, in order; the host pins, deletes, times out and bans; the banned viewer's next message is
 * refused, and the page says why. The follower heard of the live (a toast and the notifications
 * menu) within 2 s of Go Live.
 */
describe('live chat with moderation, and a follower told of Go Live', () => {
  const e2e = useStackAndBrowser({ media: true });

  const signedIn = (handle: string, path: string) => signedInPage(e2e.stack, e2e.browser, handle, path);
  const chat = chatOf;
  const bodies = chatBodies;
  const messages = (page: Page) => chat(page).getByTestId('chat-message');
  const messageOf = (page: Page, text: string) => messages(page).filter({ hasText: text });

  it('chats both ways in order; the host pins, deletes, times out and bans; the follower heard of the live', { timeout: 180_000 }, async () => {
    const host = await signedIn('chathost', '/studio');
    const alice = await signedIn('alice', '/');
    const bob = await signedIn('bob', '/');

    // Bob follows the host, then waits on the home page.
    await bob.page.goto('/@chathost');
    await bob.page.getByRole('button', { name: 'Follow' }).click();
    await bob.page.getByRole('button', { name: 'Unfollow' }).waitFor();
    await bob.page.goto('/');
    await bob.page.evaluate(() => {
      const w = window as Marked;
      new MutationObserver(() => {
        if (w.liveToastAt === undefined && document.querySelector('[data-testid="live-started"]')) w.liveToastAt = Date.now();
      }).observe(document.body, { childList: true, subtree: true });
    });

    const id = await goLiveFromStudio(host.page, 'Chat night');
    const toast = bob.page.getByTestId('live-started');
    await toast.waitFor({ timeout: 5000 });
    expect(await toast.textContent()).toContain('Chathost is live');
    const startedAt = Date.parse(((await (await fetch(`${e2e.stack.url}/api/live/${id}`)).json()) as { startedAt: string }).startedAt);
    const toldAfterMs = (await bob.page.evaluate(() => (window as Marked).liveToastAt ?? 0)) - startedAt;
    console.info(`[chat] the follower was told ${toldAfterMs} ms after the live started`);
    expect(toldAfterMs).toBeLessThanOrEqual(2000);
    // The notifications menu has it too, unread.
    const bell = bob.page.getByRole('button', { name: /^Notifications, \d+ unread$/ });
    await bell.click();
    await expect.poll(() => bob.page.getByTestId('notification').first().textContent()).toContain('Chathost is live: Chat night');
    await bob.page.getByRole('button', { name: 'Mark all read' }).click();
    await bob.page.getByRole('button', { name: 'Notifications', exact: true }).waitFor();

    // Both viewers open the live; each side writes; everyone sees the same order.
    await Promise.all([alice.page.goto(`/live/${id}`), bob.page.goto(`/live/${id}`)]);
    await say(alice.page, 'Hello from Alice <script>alert(1)</script>');
    await expect.poll(() => bodies(bob.page)).toEqual(['Hello from Alice <script>alert(1)</script>']);
    await say(bob.page, 'Hi Alice, Bob here');
    await say(host.page, 'Welcome both!');
    const order = ['Hello from Alice <script>alert(1)</script>', 'Hi Alice, Bob here', 'Welcome both!'];
    for (const page of [host.page, alice.page, bob.page]) await expect.poll(() => bodies(page)).toEqual(order);
    // The script is text: no element was made of it (failOnDialog would have thrown on alert()).
    expect(await chat(bob.page).locator('script').count()).toBe(0);
    await bob.page.screenshot({ path: `${SHOTS}/chat-viewer.png` });

    // The host pins Alice's message: on top for everyone.
    await messageOf(host.page, 'Hello from Alice').getByRole('button', { name: 'Pin' }).click();
    for (const page of [alice.page, bob.page]) await expect.poll(() => chat(page).getByTestId('pinned').textContent()).toContain('Hello from Alice');
    // Deletes Bob's: gone for everyone.
    await messageOf(host.page, 'Hi Alice, Bob here').getByRole('button', { name: 'Delete' }).click();
    for (const page of [host.page, alice.page, bob.page]) await expect.poll(() => bodies(page)).toEqual([order[0], order[2]]);

    // Times Alice out: her next message is refused, and she is told why.
    await messageOf(host.page, 'Hello from Alice').getByRole('button', { name: 'Time out' }).click();
    await say(alice.page, 'Am I still here?');
    await expect.poll(() => chat(alice.page).getByRole('alert').textContent()).toMatch(/timed out/i);

    // Bans Bob (from his earlier message, as the host sees it in history after a reload).
    await say(bob.page, 'Something rude');
    await expect.poll(() => bodies(host.page)).toContain('Something rude');
    await messageOf(host.page, 'Something rude').getByRole('button', { name: 'Ban' }).click();
    await expect.poll(() => chat(bob.page).getByRole('status').textContent()).toMatch(/banned/i);
    await say(bob.page, 'Let me back in');
    await expect.poll(() => chat(bob.page).getByRole('alert').textContent()).toMatch(/banned/i);
    await bob.page.screenshot({ path: `${SHOTS}/chat-banned.png` });
    await host.page.screenshot({ path: `${SHOTS}/chat-studio.png`, fullPage: true });
    // Refused by the server, not hidden by the page: neither message exists anywhere.
    const history = (await (await fetch(`${e2e.stack.url}/api/live/${id}/chat`)).json()) as { messages: { body: string }[] };
    expect(history.messages.map((m) => m.body)).not.toContain('Let me back in');
    expect(history.messages.map((m) => m.body)).not.toContain('Am I still here?');
    await expect.poll(() => bodies(host.page)).not.toContain('Let me back in');

    // Unbanned, Bob chats again; Alice, made a moderator, gets the moderation actions.
    await messageOf(host.page, 'Something rude').getByRole('button', { name: 'Unban' }).click();
    await expect.poll(() => chat(bob.page).getByRole('status').count()).toBe(0);
    await say(bob.page, 'Sorry about that');
    await expect.poll(() => bodies(host.page)).toContain('Sorry about that');
    await messageOf(host.page, 'Hello from Alice').getByRole('button', { name: 'Make moderator' }).click();
    await expect.poll(() => messageOf(alice.page, 'Sorry about that').getByRole('button', { name: 'Pin' }).count()).toBe(1);
  });
});
