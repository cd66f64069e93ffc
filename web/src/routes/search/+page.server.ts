import { searchQuery, type Page, type PublicUser } from '@podlive/shared/accounts';
import { api, ApiFailure } from '$lib/server/api';
import { summary } from '$lib/users';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ url, locals }) => {
  const q = url.searchParams.get('q') ?? '';
  const parsed = searchQuery.safeParse({ q, page: url.searchParams.get('page') ?? undefined });
  if (!parsed.success) return { q, results: null, problem: null };
  const params = new URLSearchParams({ q: parsed.data.q, page: String(parsed.data.page), limit: String(parsed.data.limit) });
  try {
    const results = await api<Page<PublicUser>>(`/api/users/search?${params}`, { token: locals.accessToken });
    return { q: parsed.data.q, results: { ...results, items: results.items.map(summary) }, problem: null };
  } catch (err) {
    if (!(err instanceof ApiFailure)) throw err;
    return { q: parsed.data.q, results: null, problem: err.message };
  }
};
