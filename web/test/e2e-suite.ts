import { afterAll, beforeAll, expect } from 'vitest';
import { openBrowser, type BrowserHarness } from './browser';
import { startStack, type Stack, type StackOptions } from './stack';

export interface E2eSuite {
  readonly stack: Stack;
  readonly browser: BrowserHarness;
}

/**
 * The stack and a Chromium on it for one describe block: both start before its tests; after them
 * no page may have reported a CSP violation, and both stop even when that check fails (a failed
 * check used to leave the stack's processes running).
 */
export function useStackAndBrowser(options: StackOptions = {}): E2eSuite {
  let stack: Stack | undefined;
  let browser: BrowserHarness | undefined;
  beforeAll(async () => {
    [stack, browser] = await Promise.all([startStack(options), openBrowser(() => stack?.url ?? '')]);
  });
  afterAll(async () => {
    try {
      expect(browser?.cspViolations ?? []).toEqual([]);
    } finally {
      await browser?.close();
      await stack?.stop();
    }
  });
  return {
    get stack() {
      if (stack === undefined) throw new Error('the stack is not started yet (use it inside a test or a later hook)');
      return stack;
    },
    get browser() {
      if (browser === undefined) throw new Error('the browser is not open yet (use it inside a test or a later hook)');
      return browser;
    },
  };
}
