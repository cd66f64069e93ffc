import type { Page } from 'playwright-core';
import type { BrowserHarness } from './browser';
import { signIn, type Stack } from './stack';

/**
 * What the chat e2e tests do on a page: one signed-in person per page (an injected script's
 * alert() fails the test), the chat region, its messages' text, and writing one.
 */
export async function signedInPage(stack: Stack, browser: BrowserHarness, handle: string, path: string): Promise<{ page: Page; id: string }> {
  const page = await browser.newPage({ failOnDialog: true });
  const id = await signIn(stack, page, { handle, displayName: `${handle[0]!.toUpperCase()}${handle.slice(1)}`, path });
  return { page, id };
}

export const chatOf = (page: Page) => page.getByRole('region', { name: 'Chat' });

export const chatBodies = (page: Page) => chatOf(page).getByTestId('chat-message').locator('.body').allTextContents();

export async function say(page: Page, text: string): Promise<void> {
  await chatOf(page).getByLabel('Message', { exact: true }).fill(text);
  await chatOf(page).getByRole('button', { name: 'Send' }).click();
}
