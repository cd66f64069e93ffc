import type { ParamMatcher } from '@sveltejs/kit';

/** A profile path segment: `@` then a handle-shaped name (the API decides whether it exists). */
export const match: ParamMatcher = (param) => /^@[A-Za-z0-9_]{1,30}$/.test(param);
