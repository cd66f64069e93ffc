import { describe, expect, it } from 'vitest';
import { widenCsp } from '../src/plugins/csp';

describe('widenCsp', () => {
  it('adds origins to connect-src, media-src and img-src only, once each', () => {
    const policy = "default-src 'self'; connect-src 'self' https://media.example; script-src 'self'";
    expect(widenCsp(policy, ['https://media.example', 'https://s3.example'])).toBe("default-src 'self'; connect-src 'self' https://media.example https://s3.example; script-src 'self'");
  });

  it('leaves a policy without those directives, or no origins, as it was', () => {
    expect(widenCsp("default-src 'self'", ['https://s3.example'])).toBe("default-src 'self'");
    expect(widenCsp("img-src 'self';", [])).toBe("img-src 'self';");
  });
});
