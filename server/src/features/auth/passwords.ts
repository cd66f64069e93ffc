import { hash, verify } from '@node-rs/argon2';
import { dictionary } from '@zxcvbn-ts/language-common';
import type { PasswordHashConfig } from '../../config';

/** zxcvbn-ts' list of the most common passwords, compared ignoring case. */
const commonPasswords: ReadonlySet<string> = new Set(dictionary.passwords.map((p) => p.toLowerCase()));

export function isCommonPassword(password: string): boolean {
  return commonPasswords.has(password.toLowerCase());
}

/** argon2id (the library's default algorithm) with the configured cost. */
export class PasswordHasher {
  readonly #cost: PasswordHashConfig;
  #dummy: Promise<string> | undefined;

  constructor(cost: PasswordHashConfig) {
    this.#cost = cost;
  }

  hash(password: string): Promise<string> {
    return hash(password, { ...this.#cost });
  }

  async verify(passwordHash: string, password: string): Promise<boolean> {
    try {
      return await verify(passwordHash, password);
    } catch {
      return false;
    }
  }

  /**
   * Spends the time of one verification for an unknown email, so response times don't tell
   * which emails have accounts.
   */
  async verifyDummy(password: string): Promise<void> {
    this.#dummy ??= this.hash('podlive-dummy-password-never-matches');
    await this.verify(await this.#dummy, password);
  }
}
