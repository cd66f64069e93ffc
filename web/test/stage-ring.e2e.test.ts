import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { InboundStats } from '../src/lib/media/MediaSession';
import { signIn } from './stack';
import { goLiveFromStudio } from './studio';
import { useStackAndBrowser } from './e2e-suite';

const CALLS = 10;
/**
 * The product's promise is 200 ms from the host's Invite click to the call on the viewer's
 * screen (median of the calls), the figure this test prints; the bound is looser so a loaded
 * 2-core CI machine (other tests' browsers and media) stays green.
 */
const MEDIAN_BOUND_MS = 400;

type RingWindow = { podliveMedia?: { inboundStats(): Promise<InboundStats> }; clickedAt?: number; dialogShownAt?: number };

describe('the incoming call, as fast as a phone rings', () => {
  const e2e = useStackAndBrowser({ media: true });

  /** From now on, the page records (Date.now()) when a dialog first shows. */
  const watchForDialog = (page: Page) =>
    page.evaluate(() => {
      const w = window as RingWindow;
      delete w.dialogShownAt;
      const observer = new MutationObserver(() => {
        if (document.querySelector('[role="dialog"]') === null) return;
        w.dialogShownAt = Date.now();
        observer.disconnect();
      });
      observer.observe(document.body, { childList: true, subtree: true });
    });

  it(`the viewer's screen shows the call soon after the host clicks Invite (median of ${CALLS} calls)`, { timeout: 180_000 }, async () => {
    const host = await e2e.browser.newPage();
    await signIn(e2e.stack, host, { handle: 'ring_host', displayName: 'Ring host', path: '/studio' });
    const sessionId = await goLiveFromStudio(host, 'Ring test');
    const viewer = await e2e.browser.newPage();
    await signIn(e2e.stack, viewer, { handle: 'ring_viewer', displayName: 'Ring viewer', path: `/live/${sessionId}` });
    await expect.poll(() => viewer.evaluate(async () => (await (window as RingWindow).podliveMedia?.inboundStats())?.video.framesDecoded ?? 0), { timeout: 30_000 }).toBeGreaterThan(10);

    const panel = host.getByRole('region', { name: 'Invite to stage' });
    const inviteButton = panel.getByRole('button', { name: 'Invite', exact: true });
    // The click's own moment, in the host's page: the listener runs before the page's handlers.
    await host.evaluate(() => document.addEventListener('click', () => ((window as RingWindow).clickedAt = Date.now()), { capture: true }));
    const dialog = viewer.getByRole('dialog', { name: 'Stage invite' });
    const delays: number[] = [];
    for (let call = 0; call < CALLS; call++) {
      await panel.getByLabel('Handle').fill('ring_viewer');
      await watchForDialog(viewer);
      await inviteButton.click();
      await dialog.waitFor({ timeout: 10_000 });
      const clickedAt = await host.evaluate(() => (window as RingWindow).clickedAt ?? NaN);
      const shownAt = await viewer.evaluate(() => (window as RingWindow).dialogShownAt ?? NaN);
      delays.push(shownAt - clickedAt);
      expect(await dialog.textContent()).toContain('Ring host');
      await dialog.getByRole('button', { name: 'Decline' }).click();
      await dialog.waitFor({ state: 'detached', timeout: 5000 });
      // The host sees the answer before calling again (one ringing invite per viewer).
      await panel.getByTestId('stage-call').first().getByRole('status').filter({ hasText: /declined/ }).waitFor({ timeout: 5000 });
    }
    const sorted = [...delays].sort((a, b) => a - b);
    const median = (sorted[CALLS / 2 - 1]! + sorted[CALLS / 2]!) / 2;
    console.info(`[stage ring] Invite click → call on screen: median ${median} ms, each ${delays.join(', ')} ms`);
    expect(delays.every((d) => Number.isFinite(d) && d >= 0)).toBe(true);
    expect(median).toBeLessThan(MEDIAN_BOUND_MS);
  });
});
