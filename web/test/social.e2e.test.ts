import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { Report } from '@podlive/shared/social';
import { PASSWORD } from './stack';
import { goLiveFromStudio } from './studio';
import { chatBodies, chatOf, say, signedInPage } from './chat-page';
import { useStackAndBrowser } from './e2e-suite';

/** Where screenshots go (looked at by hand): /tmp by default. */
const SHOTS = process.env.PODLIVE_SCREENSHOTS ?? '/tmp';

/**
 * Block and report through the pages, and /discover. Dana hosts and blocks Eve: Eve can't chat in
 * Dana's live, Dana can't invite her on stage, and Eve doesn't find Dana in suggestions. Finn
 * blocked Gus: Gus's messages reach everyone in the live but Finn. Eve reports Gus's message, Finn
 * the live and Eve's profile; the admin sees each report once, however many times it was sent.
 */
describe('block, report and discover through the pages', () => {
  const e2e = useStackAndBrowser({ media: true });

  const signedIn = (handle: string, path: string) => signedInPage(e2e.stack, e2e.browser, handle, path);
  const chat = chatOf;
  const bodies = chatBodies;
  async function block(page: Page, handle: string) {
    await page.goto(`/@${handle}`);
    await page.getByRole('button', { name: 'Block' }).click();
    await page.getByRole('button', { name: 'Unblock' }).waitFor();
  }
  async function report(page: Page, open: () => Promise<void>, reason: string) {
    await open();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Reason').fill(reason);
    await dialog.getByRole('button', { name: 'Send report' }).click();
    await dialog.getByText('Thanks. Our moderators will review your report.').waitFor();
    await dialog.getByRole('button', { name: 'Close' }).click();
  }
  const suggestions = async (page: Page, q: string) => {
    await page.goto('/discover');
    await page.getByLabel('Search people and lives').fill(q);
    const list = page.getByRole('list', { name: 'Suggestions' });
    await list.waitFor({ timeout: 5000 }).catch(() => undefined);
    return list.getByRole('link').allTextContents();
  };

  it('blocks keep people out of your chat, your stage and your suggestions; reports are stored once', { timeout: 180_000 }, async () => {
    const dana = await signedIn('dana', '/studio');
    const eve = await signedIn('eve', '/');
    const finn = await signedIn('finn', '/');
    const gus = await signedIn('gus', '/');
    await block(dana.page, 'eve');
    await block(finn.page, 'gus');
    await dana.page.screenshot({ path: `${SHOTS}/social-blocked-profile.png` });

    await dana.page.goto('/studio');
    const id = await goLiveFromStudio(dana.page, 'Dana talks design');
    await Promise.all([eve.page, finn.page, gus.page].map((p) => p.goto(`/live/${id}`)));

    // Eve can't chat in Dana's live: the server refuses, the page says so.
    await say(eve.page, 'Hello Dana?');
    await expect.poll(() => chat(eve.page).getByRole('alert').textContent()).toMatch(/cannot chat in this host/i);
    // Gus can; everyone sees him but Finn, who blocked him.
    await say(gus.page, 'Gus was here');
    await say(finn.page, 'Finn says hi');
    await expect.poll(() => bodies(dana.page)).toEqual(['Gus was here', 'Finn says hi']);
    await expect.poll(() => bodies(finn.page)).toEqual(['Finn says hi']);
    expect(await bodies(eve.page)).toEqual(['Gus was here', 'Finn says hi']);
    // ... after a reload too (the history leaves him out).
    await finn.page.reload();
    await expect.poll(() => bodies(finn.page)).toEqual(['Finn says hi']);

    // Dana can't call Eve onto the stage.
    const invite = dana.page.getByRole('region', { name: 'Invite to stage' });
    await invite.getByLabel('Handle').fill('eve');
    await invite.getByRole('button', { name: 'Invite' }).click();
    await expect.poll(() => invite.getByRole('alert').textContent()).toMatch(/You blocked this person/);

    // Eve doesn't find Dana in suggestions; Finn does (the live too).
    expect(await suggestions(finn.page, 'dana')).toEqual(expect.arrayContaining([expect.stringContaining('@dana')]));
    expect((await suggestions(finn.page, 'design')).join(' ')).toContain('Dana talks design');
    expect((await suggestions(eve.page, 'dana')).join(' ')).not.toContain('@dana');
    await finn.page.screenshot({ path: `${SHOTS}/discover.png` });
    // The live is trending on /discover, and listed under its category.
    await expect.poll(() => finn.page.getByRole('region', { name: 'Trending now' }).getByRole('link', { name: 'Dana talks design' }).count()).toBeGreaterThan(0);
    await expect.poll(() => finn.page.getByRole('region', { name: 'Tech' }).getByRole('link', { name: 'Dana talks design' }).count()).toBeGreaterThan(0);

    // Eve reports Gus's message (Finn does not see it), Finn the live and Eve's profile; twice each.
    for (let attempt = 0; attempt < 2; attempt++) {
      await report(eve.page, async () => {
        await eve.page.goto(`/live/${id}`);
        await chat(eve.page).getByTestId('chat-message').filter({ hasText: 'Gus was here' }).getByRole('button', { name: 'Report' }).click();
      }, 'Spam <img src=x onerror=alert(1)>');
      await report(finn.page, async () => {
        await finn.page.goto(`/live/${id}`);
        await finn.page.getByRole('button', { name: 'Report live' }).click();
      }, 'Not what the title says');
      await report(finn.page, async () => {
        await finn.page.goto('/@eve');
        await finn.page.getByRole('button', { name: 'Report' }).click();
      }, 'Impersonation');
    }
    await finn.page.screenshot({ path: `${SHOTS}/report-profile.png` });

    // The moderation queue: one open report per reporter and target, the reason kept as text.
    const login = await fetch(`${e2e.stack.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'dana@example.com', password: PASSWORD }) });
    const { accessToken } = (await login.json()) as { accessToken: string };
    const queue = () => fetch(`${e2e.stack.url}/api/admin/reports?status=open`, { headers: { authorization: `Bearer ${accessToken}` } });
    expect((await queue()).status).toBe(403);
    await e2e.stack.makeAdmin(dana.id);
    const { items } = (await (await queue()).json()) as { items: Report[] };
    expect(items.map((r) => `${r.reporter?.handle} ${r.targetKind} ${r.reason}`).sort()).toEqual([
      'eve chat_message Spam <img src=x onerror=alert(1)>',
      'finn session Not what the title says',
      'finn user Impersonation',
    ]);
  });
});
