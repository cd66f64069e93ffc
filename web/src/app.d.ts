import type { SelfUser } from '@podlive/shared/accounts';

declare global {
  namespace App {
    interface Locals {
      /** The signed-in user (hooks.server.ts), or null. */
      user: SelfUser | null;
      /** The API access token of the signed-in user, for calls made on their behalf. */
      accessToken: string | null;
    }
    interface Error {
      message: string;
    }
  }
}

export {};
