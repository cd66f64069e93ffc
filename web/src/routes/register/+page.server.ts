import { redirect } from '@sveltejs/kit';
import { registerBody, type LoginResponse, type RegisterResponse } from '@podlive/shared/accounts';
import { api, ApiFailure } from '$lib/server/api';
import { invalid, refused, text, zodFields } from '$lib/server/forms';
import { setSession } from '$lib/server/session';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = ({ locals }) => {
  if (locals.user) redirect(303, `/@${locals.user.handle}`);
};

export const actions: Actions = {
  default: async ({ request, cookies, url }) => {
    const data = await request.formData();
    const values = { email: text(data, 'email'), handle: text(data, 'handle'), displayName: text(data, 'displayName') };
    const parsed = registerBody.safeParse({
      email: values.email,
      password: text(data, 'password'),
      handle: values.handle,
      displayName: values.displayName.trim() === '' ? undefined : values.displayName,
    });
    if (!parsed.success) return invalid(zodFields(parsed.error), values);

    try {
      // 202 whether the email is new or already has an account (its owner is mailed instead).
      await api<RegisterResponse>('/api/auth/register', { method: 'POST', body: parsed.data });
    } catch (err) {
      return refused(err, values);
    }
    // Signed in straight away where the password is right (a new account); verifying the email comes next either way.
    try {
      const session = await api<LoginResponse>('/api/auth/login', { method: 'POST', body: { email: parsed.data.email, password: parsed.data.password } });
      setSession(cookies, url, session, false);
    } catch (err) {
      if (!(err instanceof ApiFailure)) throw err;
    }
    redirect(303, `/verify?email=${encodeURIComponent(parsed.data.email)}`);
  },
};
