import { describe, expect, it } from 'vitest';
import { ConfigError } from '@podlive/shared/env';
import { loadConfig } from '../src/config';

describe('SFU config', () => {
  it('is made like every process\'s: blank means the default, the result is frozen', () => {
    const config = loadConfig({ SFU_PORT: '5000', SFU_NODE_ID: '', REDIS_URL: '' });
    expect([config.SFU_NODE_ID, config.REDIS_URL, config.SFU_CONTROL_PORT]).toEqual(['local', undefined, 5001]);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('a bad variable is a ConfigError naming it', () => {
    expect(() => loadConfig({ SFU_WORKERS: 'many' })).toThrow(ConfigError);
    expect(() => loadConfig({ SFU_PUBLIC_WS_URL: 'http://media.example' })).toThrow(/SFU_PUBLIC_WS_URL/);
  });
});
