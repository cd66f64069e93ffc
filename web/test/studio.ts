import type { Page } from 'playwright-core';

/**
 * Fills the studio's pre-live form and presses Go Live; resolves with the live's id once the
 * dashboard shows. The preview must be playing first: it is what gets published, and its first
 * frame becomes the thumbnail. Playwright's waits only: benchmarks use it outside vitest.
 */
export async function goLiveFromStudio(page: Page, title: string, description?: string): Promise<string> {
  await page.getByLabel('Title').fill(title);
  if (description !== undefined) await page.getByLabel('Description').fill(description);
  await page.getByLabel('Category').selectOption('Tech');
  await page.locator('video').first().waitFor({ timeout: 15_000 });
  await page.waitForFunction(() => (document.querySelector('video')?.videoWidth ?? 0) > 0, undefined, { timeout: 15_000 });
  await page.getByRole('button', { name: 'Go Live' }).click();
  await page.getByRole('button', { name: 'End Live' }).waitFor({ timeout: 20_000 });
  const href = await page.getByRole('link', { name: 'Open viewer page' }).getAttribute('href');
  const id = /\/live\/([^/?#]+)/.exec(href ?? '')?.[1];
  if (!id) throw new Error(`no live id in ${href}`);
  return id;
}
