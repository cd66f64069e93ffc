import { OTP_TTL_MIN } from '@podlive/shared/accounts';
import type { MailMessage } from '../../mail';
import type { CodePurpose } from './codes';

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

const wording: Record<CodePurpose, { subject: string; intro: string }> = {
  verify_email: { subject: 'Your PodLive verification code', intro: 'Welcome to PodLive! Enter this code to verify your email address:' },
  reset_password: { subject: 'Your PodLive password reset code', intro: 'Someone (hopefully you) asked to reset your PodLive password. Enter this code to choose a new one:' },
};

/** The mail carrying a one-time code, as text and HTML (user text escaped in the HTML part). */
export function codeMail(to: string, displayName: string, purpose: CodePurpose, code: string): MailMessage {
  const { subject, intro } = wording[purpose];
  const outro = `The code expires in ${OTP_TTL_MIN} minutes. If you didn't ask for it, ignore this email.`;
  return {
    to,
    subject,
    text: `Hi ${displayName},\n\n${intro}\n\n    ${code}\n\n${outro}\n`,
    html:
      `<p>Hi ${escapeHtml(displayName)},</p><p>${escapeHtml(intro)}</p>` +
      `<p style="font-size:28px;font-weight:bold;letter-spacing:6px">${code}</p><p>${escapeHtml(outro)}</p>`,
  };
}

/**
 * The mail to an account's owner when someone registers again with their email: registration
 * answers alike for new and existing emails, so the owner (not the requester) learns of it.
 */
export function accountExistsMail(to: string, displayName: string): MailMessage {
  const subject = 'Someone tried to sign up with your email';
  const intro = 'Someone (hopefully you) tried to create a PodLive account with this email address, which already has one.';
  const outro = "If it was you, log in instead, or reset your password if you forgot it. If it wasn't, ignore this email: nothing changed.";
  return {
    to,
    subject,
    text: `Hi ${displayName},\n\n${intro}\n\n${outro}\n`,
    html: `<p>Hi ${escapeHtml(displayName)},</p><p>${escapeHtml(intro)}</p><p>${escapeHtml(outro)}</p>`,
  };
}
