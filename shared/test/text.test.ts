import { describe, expect, it } from 'vitest';
import { displayNameSchema } from '../src/accounts';
import { chatText } from '../src/chat';
import { handleProblem, handleSkeleton } from '../src/handles';
import { createLiveBody } from '../src/live';

describe('look-alike handles', () => {
  it.each(['podIive', 'p0dlive', 'PODL1VE', 'adm1n', 'ADMlN', 'rnoderator', '5upport', 'st4ff', 'podlive_tv', 'my_p0dIive'])('%s imitates the brand or staff: prohibited', (handle) => {
    expect(handleProblem(handle)).toBe('prohibited');
  });

  it('gives look-alikes one skeleton (case, I/l/1/i, 0/O, rn/m) and tells different handles apart', () => {
    const skeleton = handleSkeleton('lily_rahm');
    for (const lookalike of ['LILY_RAHM', 'LiIy_rahm', 'l1ly_rahrn', 'liiy_rahm']) expect(handleSkeleton(lookalike)).toBe(skeleton);
    expect(handleSkeleton('lily_raha')).not.toBe(skeleton);
    // Unicode confusables too (the skeleton is not only for ASCII).
    expect(handleSkeleton('\u0430dmin')).toBe(handleSkeleton('admin'));
  });
});

describe('invisible characters in names and titles', () => {
  it('display names lose zero-width characters and bidi controls', () => {
    expect(displayNameSchema.parse('Ad\u200Bmin\u200D')).toBe('Admin');
    expect(displayNameSchema.parse('\u2067Rahul\u2069 \u202Egnp.exe')).toBe('Rahul gnp.exe');
    expect(displayNameSchema.safeParse('\u200B\u200C').success).toBe(false); // nothing visible left
  });

  it('live titles lose bidi overrides and isolates', () => {
    const body = createLiveBody.parse({ title: 'Tonight \u202Ekcol\u202C \u2066live\u2069', category: 'Music' });
    expect(body.title).toBe('Tonight kcol live');
    expect(createLiveBody.safeParse({ title: '\u202E\u200B', category: 'Music' }).success).toBe(false);
  });

  it('emoji sequences keep their joiners; a joiner between letters goes (chat uses the same rule)', () => {
    expect(chatText.parse('hi 👩\u200D💻')).toBe('hi 👩\u200D💻');
    expect(chatText.parse('ad\u200Dmin')).toBe('admin');
    expect(displayNameSchema.parse('👨\u200D👩\u200D👧 family')).toBe('👨\u200D👩\u200D👧 family');
  });
});
