import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium, type ChromiumOptions } from '@podlive/shared/testing/chromium';

/**
 * Debian's Chromium for the e2e tests: every context opens on the stack's origin, and every page
 * reports Content-Security-Policy violations (a test asserts none at the end) and page errors.
 */
export interface BrowserHarness {
  browser: Browser;
  /** CSP violations reported by any page so far. */
  cspViolations: string[];
  /** `forwardedFor`: the address the stack sees this browser at (X-Forwarded-For, trusted from loopback), as if on another machine. */
  newContext(options?: { javaScript?: boolean; forwardedFor?: string }): Promise<BrowserContext>;
  /** A page in `context`, or in a fresh context; `failOnDialog`: any alert() (an injected script) throws. */
  newPage(options?: { context?: BrowserContext; javaScript?: boolean; failOnDialog?: boolean; forwardedFor?: string }): Promise<Page>;
  close(): Promise<void>;
}

/** `baseURL` is read when a context opens (the stack may still be starting when this launches). */
export async function openBrowser(baseURL: () => string, chromium: ChromiumOptions = {}): Promise<BrowserHarness> {
  const browser = await launchChromium(chromium);
  const contexts: BrowserContext[] = [];
  const cspViolations: string[] = [];
  const newContext = async (options: { javaScript?: boolean; forwardedFor?: string } = {}) => {
    const context = await browser.newContext({
      baseURL: baseURL(), viewport: { width: 1280, height: 800 }, javaScriptEnabled: options.javaScript ?? true,
      ...(options.forwardedFor === undefined ? {} : { extraHTTPHeaders: { 'x-forwarded-for': options.forwardedFor } }),
    });
    contexts.push(context);
    return context;
  };
  return {
    browser,
    cspViolations,
    newContext,
    async newPage(options = {}) {
      const page = await (options.context ?? (await newContext({ javaScript: options.javaScript, forwardedFor: options.forwardedFor }))).newPage();
      page.on('pageerror', (err) => console.error(`page error: ${err.message}`));
      page.on('console', (message) => {
        if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
      });
      if (options.failOnDialog) {
        page.on('dialog', (dialog) => {
          throw new Error(`unexpected dialog: ${dialog.message()}`);
        });
      }
      return page;
    },
    async close() {
      for (const context of contexts) await context.close().catch(() => undefined);
      await browser.close();
    },
  };
}
