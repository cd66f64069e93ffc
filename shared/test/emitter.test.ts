import { describe, expect, it } from 'vitest';
import { SafeEmitter } from '../src/emitter';
import { createLogger } from '../src/logger';

function logged() {
  const lines: { msg: string; event?: string; err?: { message: string } }[] = [];
  const log = createLogger('test', { level: 'error' }, { write: (line: string) => void lines.push(JSON.parse(line) as (typeof lines)[number]) });
  return { log, lines };
}

describe('SafeEmitter', () => {
  it('safeEmit logs a listener that throws and still calls the others, in order', () => {
    const { log, lines } = logged();
    const emitter = new SafeEmitter<{ tick: [n: number] }>(log);
    const calls: string[] = [];
    emitter.on('tick', (n) => calls.push(`first ${n}`));
    emitter.on('tick', () => {
      throw new Error('faulty watcher');
    });
    emitter.on('tick', (n) => calls.push(`last ${n}`));
    expect(() => emitter.safeEmit('tick', 7)).not.toThrow();
    expect(calls).toEqual(['first 7', 'last 7']);
    expect(lines.map((l) => [l.msg, l.event, l.err?.message])).toEqual([['event listener threw', 'tick', 'faulty watcher']]);
  });

  it('a once listener runs once, even when it throws', () => {
    const { log, lines } = logged();
    const emitter = new SafeEmitter<{ tick: [] }>(log);
    let calls = 0;
    emitter.once('tick', () => {
      calls++;
      throw new Error('once');
    });
    emitter.safeEmit('tick');
    emitter.safeEmit('tick');
    expect([calls, emitter.listenerCount('tick'), lines.length]).toEqual([1, 0, 1]);
  });
});
