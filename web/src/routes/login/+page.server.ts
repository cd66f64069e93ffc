import { redirect } from '@sveltejs/kit';
import { loginBody, type LoginResponse } from '@podlive/shared/accounts';
import { api } from '$lib/server/api';
import { invalid, refused, safeRedirect, text, zodFields } from '$lib/server/forms';
import { setSession } from '$lib/server/session';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = ({ url, locals }) => {
  const next = safeRedirect(url.searchParams.get('redirectTo'), url.origin, '');
  if (locals.user) redirect(303, next || `/@${locals.user.handle}`);
  return {
    email: url.searchParams.get('email') ?? '',
    notice: url.searchParams.has('verified') ? 'Your email is verified. Log in to continue.' : url.searchParams.has('reset') ? 'Your password is changed. Log in with the new one.' : null,
  };
};

export const actions: Actions = {
  default: async ({ request, cookies, url }) => {
    const data = await request.formData();
    const rememberMe = data.get('rememberMe') === 'on';
    const values = { email: text(data, 'email'), rememberMe: rememberMe ? 'on' : '' };
    const parsed = loginBody.safeParse({ email: values.email, password: text(data, 'password'), rememberMe });
    if (!parsed.success) return invalid(zodFields(parsed.error), values);
    let session: LoginResponse;
    try {
      session = await api<LoginResponse>('/api/auth/login', { method: 'POST', body: parsed.data });
    } catch (err) {
      return refused(err, values);
    }
    setSession(cookies, url, session, rememberMe);
    redirect(303, safeRedirect(url.searchParams.get('redirectTo'), url.origin, `/@${session.user.handle}`));
  },
};
