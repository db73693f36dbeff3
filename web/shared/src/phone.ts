/** What the form checks before asking for a code; the server normalises to E.164. */

/** The number without spaces, dots, dashes and brackets. */
export function compactPhone(value: string): string {
  return value.replace(/[\s().-]/g, '');
}

/** Why `value` cannot be a phone number (an i18n key), or null when it can. */
export function phoneProblem(value: string): string | null {
  const phone = compactPhone(value);
  if (!phone) return 'validation.phoneRequired';
  if (!phone.startsWith('+')) return 'validation.phoneCountry';
  if (!/^\+[1-9]\d{6,14}$/.test(phone)) return 'validation.phoneInvalid';
  return null;
}

/** Why `value` cannot be a one-time code, or null when it can. */
export function codeProblem(value: string): string | null {
  const code = value.trim();
  if (!code) return 'validation.codeRequired';
  if (!/^\d{6}$/.test(code)) return 'validation.codeInvalid';
  return null;
}
