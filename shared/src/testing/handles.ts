import { randomBytes } from 'node:crypto';
import { handleProblem } from '../handles';

/**
 * A fresh stem for test handles: `<prefix><random hex>`, drawn again until `<stem><suffix>` is a
 * valid handle for every suffix (random hex read with digits as letters can spell a prohibited
 * word: `b00b`). Tests that search by a shared prefix sign up `<stem>_a`, `<stem>_b`, …
 */
export function randomStem(prefix: string, suffixes: readonly string[]): string {
  for (;;) {
    const stem = `${prefix}${randomBytes(4).toString('hex')}`;
    if (suffixes.every((suffix) => handleProblem(`${stem}${suffix}`) === null)) return stem;
  }
}

/** A fresh, valid @handle for tests and benchmarks: `<prefix>_<random hex>`. */
export function randomHandle(prefix: string): string {
  return randomStem(`${prefix}_`, ['']);
}
