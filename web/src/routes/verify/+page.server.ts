import { redirect } from '@sveltejs/kit';
import { forgotPasswordBody, verifyOtpBody, type SelfUser } from '@podlive/shared/accounts';
import { api } from '$lib/server/api';
import { invalid, refused, text, zodFields } from '$lib/server/forms';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = ({ url, locals }) => {
  if (locals.user?.emailVerified) redirect(303, `/@${locals.user.handle}`);
  return { email: url.searchParams.get('email') ?? locals.user?.email ?? '' };
};

export const actions: Actions = {
  /** Another code (the previous one stops working); the API answers alike for unknown emails. */
  resend: async ({ request }) => {
    const values = { email: text(await request.formData(), 'email'), code: '' };
    const parsed = forgotPasswordBody.safeParse({ email: values.email });
    if (!parsed.success) return invalid(zodFields(parsed.error), values);
    try {
      await api('/api/auth/resend-code', { method: 'POST', body: { email: parsed.data.email, purpose: 'verify_email' } });
    } catch (err) {
      return refused(err, values);
    }
    return { resent: true, values };
  },
  verify: async ({ request, locals }) => {
    const data = await request.formData();
    const values = { email: text(data, 'email'), code: text(data, 'code') };
    const parsed = verifyOtpBody.safeParse({ ...values, purpose: 'verify_email' });
    if (!parsed.success) return invalid(zodFields(parsed.error), values);
    let user: SelfUser;
    try {
      ({ user } = await api<{ user: SelfUser }>('/api/auth/verify-otp', { method: 'POST', body: parsed.data }));
    } catch (err) {
      return refused(err, values);
    }
    // Signed in already (right after sign-up): on to the profile; otherwise, log in.
    if (locals.user) redirect(303, `/@${user.handle}`);
    redirect(303, `/login?verified=1&email=${encodeURIComponent(user.email)}`);
  },
};
