import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { useStackAndBrowser } from './e2e-suite';

/** Set PODLIVE_SCREENSHOTS=/some/dir to keep screenshots of the main pages. */
const screenshots = process.env.PODLIVE_SCREENSHOTS;
const PASSWORD = 'correct horse battery staple';
const HOSTILE_NAME = 'Alice <img src=x onerror=alert(1)>';
/** A 1×1 PNG. */
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');

describe('accounts in the browser, through the control plane', () => {
  const e2e = useStackAndBrowser();

  /** A fresh browser profile; any JavaScript dialog (an injected alert) fails the test. */
  const newPage = (options: { javaScript?: boolean } = {}) => e2e.browser.newPage({ ...options, failOnDialog: true });

  const shot = async (page: Page, name: string) => {
    if (!screenshots) return;
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: `${screenshots}/${name}.png`, fullPage: true });
  };

  /** Signs up through /register and /verify (code from the outbox); ends signed in on the profile. */
  async function signUp(page: Page, user: { email: string; handle: string; displayName: string }) {
    await page.goto('/register');
    await page.getByLabel('Email').fill(user.email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByLabel('Handle').fill(user.handle);
    await expect.poll(() => page.locator('#handle-availability').textContent()).toContain(`@${user.handle} is available`);
    await page.getByLabel('Display name').fill(user.displayName);
    await page.getByRole('button', { name: 'Create account' }).click();

    await page.waitForURL(/\/verify\?/);
    expect(await page.getByLabel('Email').inputValue()).toBe(user.email);
    await page.getByLabel('Code').fill(await e2e.stack.latestCode(user.email));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL(`**/@${user.handle}`);
  }

  describe('pages', () => {
    it('/register shows the labelled fields and flags a taken-looking handle at once', async () => {
      const page = await newPage();
      await page.goto('/register');
      for (const label of ['Email', 'Password', 'Handle', 'Display name']) await expect.poll(() => page.getByLabel(label).count()).toBe(1);
      await expect.poll(() => page.getByRole('button', { name: 'Create account' }).count()).toBe(1);
      await page.getByLabel('Handle').fill('admin');
      await expect.poll(() => page.locator('#handle-availability').textContent()).toContain('not allowed');
      await shot(page, 'register');
    });

    it('/@nobody is a 404 page', async () => {
      const page = await newPage();
      const response = await page.goto('/@nobody_here');
      expect(response?.status()).toBe(404);
      expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Page not found');
    });

    it('/settings/profile sends the signed-out to /login', async () => {
      const page = await newPage();
      await page.goto('/settings/profile');
      expect(new URL(page.url()).pathname).toBe('/login');
    });

    it('shows the server\'s reason next to the field', async () => {
      const page = await newPage();
      await page.goto('/login');
      await page.getByLabel('Email').fill('not-an-email');
      await page.getByLabel('Password').fill('whatever');
      await page.getByRole('button', { name: 'Log in' }).click();
      await expect.poll(() => page.locator('#field-email-error').textContent()).toBe('Enter a valid email address');
    });
  });

  it('register → verify → log out → log in → edit profile → found by search → followed and unfollowed', { timeout: 120_000 }, async () => {
    const alice = { email: 'alice@example.com', handle: 'alice_cast', displayName: 'Alice' };
    const page = await newPage();
    await signUp(page, alice);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Alice');
    expect(await page.getByText('No recordings yet').count()).toBe(1);

    // Log out, then back in (remembered).
    await page.getByRole('button', { name: 'Log out' }).click();
    await expect.poll(() => page.getByRole('link', { name: 'Log in' }).count()).toBe(1);
    await page.getByRole('link', { name: 'Log in' }).click();
    await page.getByLabel('Email').fill(alice.email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByLabel('Remember me').check();
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(`**/@${alice.handle}`);

    // A reload keeps the session; so does an expired access cookie (the refresh cookie rotates).
    await page.reload();
    expect(await page.getByRole('link', { name: `@${alice.handle}` }).count()).toBe(1);
    const context = page.context();
    const refreshBefore = (await context.cookies()).find((c) => c.name === 'podlive_refresh');
    expect(refreshBefore?.expires).toBeGreaterThan(Date.now() / 1000 + 29 * 24 * 3600);
    await context.clearCookies({ name: 'podlive_access' });
    await page.reload();
    expect(await page.getByRole('link', { name: `@${alice.handle}` }).count()).toBe(1);
    const cookies = await context.cookies();
    expect(cookies.find((c) => c.name === 'podlive_access')?.httpOnly).toBe(true);
    const refreshAfter = cookies.find((c) => c.name === 'podlive_refresh');
    expect(refreshAfter?.value).not.toBe(refreshBefore?.value);
    expect(refreshAfter?.expires).toBeGreaterThan(Date.now() / 1000 + 29 * 24 * 3600);
    await shot(page, 'profile-empty');

    // Edit the profile, with markup in the display name: it must come back as text.
    await page.getByRole('link', { name: 'Edit profile' }).click();
    await page.waitForURL('**/settings/profile');
    await page.getByLabel('Display name').fill(HOSTILE_NAME);
    await page.getByLabel('Bio').fill('Weekly talk about <b>audio</b> gear.');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'Saved' }).count()).toBe(1);
    await shot(page, 'settings-profile');
    await page.goto(`/@${alice.handle}`);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe(HOSTILE_NAME);
    expect(await page.getByText('Weekly talk about <b>audio</b> gear.').count()).toBe(1);
    expect(await page.locator('main img, main b').count()).toBe(0);

    // An avatar replaces the initials (served by the API from the same origin, allowed by the CSP).
    await page.goto('/settings/profile');
    await page.getByLabel('Avatar').setInputFiles({ name: 'me.png', mimeType: 'image/png', buffer: PNG });
    await page.getByRole('button', { name: 'Upload' }).click();
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'Avatar updated' }).count()).toBe(1);
    await page.goto(`/@${alice.handle}`);
    const avatar = page.locator('main img.avatar');
    await expect.poll(() => avatar.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBeGreaterThan(0);

    // Bob signs up, finds Alice through search suggestions, follows and unfollows her.
    const bobPage = await newPage();
    await signUp(bobPage, { email: 'bob@example.com', handle: 'bob_listens', displayName: 'Bob' });
    await bobPage.goto('/search');
    await bobPage.getByRole('searchbox', { name: 'Search' }).fill('alice');
    const suggestion = bobPage.getByRole('list', { name: 'Suggestions' }).getByRole('link', { name: /@alice_cast/ });
    await expect.poll(() => suggestion.count(), { timeout: 10_000 }).toBe(1);
    await shot(bobPage, 'search');
    // Submitting the form works too (and is what works without JavaScript).
    await bobPage.getByRole('button', { name: 'Search' }).click();
    await bobPage.waitForURL('**/search?q=alice');
    await bobPage.getByRole('list', { name: 'Results' }).getByRole('link', { name: /@alice_cast/ }).click();
    await bobPage.waitForURL(`**/@${alice.handle}`);

    const followers = bobPage.getByTestId('follower-count');
    expect(await followers.textContent()).toBe('0 followers');
    await bobPage.getByRole('button', { name: 'Follow', exact: true }).click();
    await expect.poll(() => followers.textContent()).toBe('1 follower');
    await shot(bobPage, 'profile');
    if (screenshots) {
      await bobPage.setViewportSize({ width: 390, height: 844 });
      await shot(bobPage, 'profile-mobile');
      await bobPage.setViewportSize({ width: 1280, height: 720 });
    }
    await bobPage.getByRole('button', { name: 'Unfollow' }).click();
    await expect.poll(() => followers.textContent()).toBe('0 followers');
    expect(await bobPage.getByRole('button', { name: 'Follow', exact: true }).count()).toBe(1);

    // Alice sees no follow button on her own profile, only the link to edit it.
    await page.reload();
    expect(await page.getByRole('button', { name: 'Follow', exact: true }).count()).toBe(0);
    expect(await page.getByRole('link', { name: 'Edit profile' }).count()).toBe(1);
  });

  it('forgot password: a code by mail, a new password, then logging in with it (without JavaScript)', { timeout: 60_000 }, async () => {
    const carol = { email: 'carol@example.com', handle: 'carol_hosts', displayName: 'Carol' };
    const page = await newPage();
    await signUp(page, carol);
    await page.getByRole('button', { name: 'Log out' }).click();
    await expect.poll(() => page.getByRole('link', { name: 'Log in' }).count()).toBe(1);

    await page.goto('/forgot-password');
    await page.getByLabel('Email').fill(carol.email);
    await page.getByRole('button', { name: 'Send code' }).click();
    await expect.poll(() => page.getByLabel('Code').count()).toBe(1);
    await page.getByLabel('Code').fill(await e2e.stack.latestCode(carol.email));
    await page.getByLabel('New password').fill('a brand new passphrase');
    await page.getByRole('button', { name: 'Reset password' }).click();
    await page.waitForURL(/\/login\?reset=1/);

    // The forms are plain HTML forms underneath: logging in works with JavaScript off.
    const plain = await newPage({ javaScript: false });
    await plain.goto(page.url());
    expect(await plain.getByLabel('Email').inputValue()).toBe(carol.email);
    await plain.getByLabel('Password').fill('a brand new passphrase');
    await plain.getByRole('button', { name: 'Log in' }).click();
    await plain.waitForURL(`**/@${carol.handle}`);
    expect(await plain.getByRole('link', { name: `@${carol.handle}` }).count()).toBe(1);
  });
});
