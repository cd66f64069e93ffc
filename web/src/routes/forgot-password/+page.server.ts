import { fail, redirect } from '@sveltejs/kit';
import { forgotPasswordBody, resetPasswordBody } from '@podlive/shared/accounts';
import { api } from '$lib/server/api';
import { invalid, refused, text, zodFields } from '$lib/server/forms';
import type { Actions } from './$types';

export const actions: Actions = {
  /** Step 1: mail a code (the API answers 202 whether or not the address has an account). */
  request: async ({ request }) => {
    const values = { email: text(await request.formData(), 'email') };
    const parsed = forgotPasswordBody.safeParse(values);
    if (!parsed.success) return invalid(zodFields(parsed.error), values);
    try {
      await api('/api/auth/forgot-password', { method: 'POST', body: parsed.data });
    } catch (err) {
      return refused(err, values);
    }
    return { sent: true, email: parsed.data.email };
  },
  /** Step 2: the code and a new password. */
  reset: async ({ request }) => {
    const data = await request.formData();
    const values = { email: text(data, 'email'), code: text(data, 'code') };
    const parsed = resetPasswordBody.safeParse({ ...values, newPassword: text(data, 'newPassword') });
    if (!parsed.success) return fail(400, { sent: true, message: 'Please fix the highlighted fields', fields: zodFields(parsed.error), values });
    try {
      await api('/api/auth/reset-password', { method: 'POST', body: parsed.data });
    } catch (err) {
      const failure = refused(err, values);
      return fail(failure.status, { ...failure.data, sent: true });
    }
    redirect(303, `/login?reset=1&email=${encodeURIComponent(parsed.data.email)}`);
  },
};
