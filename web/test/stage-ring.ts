import type { Page } from 'playwright-core';
import type { InboundStats } from '../src/lib/media/MediaSession';
import type { BrowserHarness } from './browser';
import { signIn, type Stack } from './stack';
import { goLiveFromStudio } from './studio';

type RingWindow = { podliveMedia?: { inboundStats(): Promise<InboundStats> }; clickedAt?: number; dialogShownAt?: number };

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

/**
 * A host live from /studio calls a signed-in viewer of /live/:id `calls` times, as people do: types
 * the handle, clicks Invite; the viewer's page shows the call; the viewer declines; the host sees
 * it declined. Each delay: the host's click (a capturing listener, before the page's handlers) →
 * the call dialog in the viewer's DOM, both pages' Date.now() on one machine. Playwright's waits
 * only: the benchmark uses it outside vitest.
 */
export async function ringViewer(stack: Stack, browser: BrowserHarness, calls: number): Promise<number[]> {
  const host = await browser.newPage();
  await signIn(stack, host, { handle: 'ring_host', displayName: 'Ring host', path: '/studio' });
  const sessionId = await goLiveFromStudio(host, 'Ring test');
  const viewer = await browser.newPage();
  await signIn(stack, viewer, { handle: 'ring_viewer', displayName: 'Ring viewer', path: `/live/${sessionId}` });
  await viewer.waitForFunction(async () => ((await (window as RingWindow).podliveMedia?.inboundStats())?.video.framesDecoded ?? 0) > 10, undefined, { timeout: 30_000, polling: 250 });

  const panel = host.getByRole('region', { name: 'Invite to stage' });
  await host.evaluate(() => document.addEventListener('click', () => ((window as RingWindow).clickedAt = Date.now()), { capture: true }));
  const dialog = viewer.getByRole('dialog', { name: 'Stage invite' });
  const delays: number[] = [];
  for (let call = 0; call < calls; call++) {
    await panel.getByLabel('Handle').fill('ring_viewer');
    await watchForDialog(viewer);
    await panel.getByRole('button', { name: 'Invite', exact: true }).click();
    await dialog.waitFor({ timeout: 10_000 });
    const clickedAt = await host.evaluate(() => (window as RingWindow).clickedAt ?? NaN);
    const shownAt = await viewer.evaluate(() => (window as RingWindow).dialogShownAt ?? NaN);
    delays.push(shownAt - clickedAt);
    if (!(await dialog.textContent())?.includes('Ring host')) throw new Error('the call does not name the host');
    await dialog.getByRole('button', { name: 'Decline' }).click();
    await dialog.waitFor({ state: 'detached', timeout: 5000 });
    // The host sees the answer before calling again (one ringing invite per viewer).
    await panel.getByTestId('stage-call').first().getByRole('status').filter({ hasText: /declined/ }).waitFor({ timeout: 5000 });
  }
  await Promise.all([host.close(), viewer.close()]);
  return delays;
}

/** The median of `values` (the mean of the middle two for an even count). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
