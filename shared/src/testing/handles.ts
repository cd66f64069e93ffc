import { randomBytes } from 'node:crypto';
import { handleProblem } from '../handles';

/**
 * A fresh, valid @handle for tests and benchmarks: `<prefix>_<random hex>`, drawn again while the
 * rules refuse it (random hex read with digits as letters can spell a prohibited word).
 */
export function randomHandle(prefix: string): string {
  for (;;) {
    const handle = `${prefix}_${randomBytes(4).toString('hex')}`;
    if (handleProblem(handle) === null) return handle;
  }
}
