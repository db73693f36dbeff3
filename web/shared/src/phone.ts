/** Phone numbers and one-time codes as the sign-in form checks them: zod schemas over
 * libphonenumber-js, which knows every country's numbering plan. A number without `+` is read
 * in the country of the browser's language (en-US: the United States); the server gets E.164. */
import { AsYouType, isSupportedCountry, parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';
import { z } from 'zod/mini';

/** The country of the browser's first language that names one (`fr` means France), if any.
 * Functions below take it by default; null means none (the number must start with +). */
export function browserCountry(languages: readonly string[] = navigator.languages?.length ? navigator.languages : [navigator.language]): CountryCode | undefined {
  for (const tag of languages) {
    try {
      const region = new Intl.Locale(tag).maximize().region;
      if (region && isSupportedCountry(region)) return region;
    } catch {
      // Not a language tag: try the next one.
    }
  }
  return undefined;
}

/** `value` in E.164 (+14155550100), or null when it is no valid number. */
export function toE164(value: string, country: CountryCode | null = browserCountry() ?? null): string | null {
  const parsed = parsePhoneNumberFromString(value, country ?? undefined);
  return parsed?.isValid() ? parsed.number : null;
}

/** `value` formatted as the person types it (+1 415 555 0100, or (415) 555-0100 at home). */
export function formatPhone(value: string, country: CountryCode | null = browserCountry() ?? null): string {
  // Deleting a bracket or a space must not be undone by the formatter.
  if (/[\s()-]$/.test(value)) return value;
  return new AsYouType(country ?? undefined).input(value);
}

/** A phone number field: the issues are i18n keys; the value becomes E.164. */
export function phoneSchema(country: CountryCode | null = browserCountry() ?? null) {
  return z.pipe(
    z.string().check(
      z.trim(),
      z.superRefine((value, context) => {
        if (!value) context.addIssue({ code: 'custom', message: 'validation.phoneRequired', input: value });
        else if (!value.startsWith('+') && !country) context.addIssue({ code: 'custom', message: 'validation.phoneCountry', input: value });
        else if (!toE164(value, country)) context.addIssue({ code: 'custom', message: 'validation.phoneInvalid', input: value });
      }),
    ),
    z.transform((value: string) => toE164(value, country) ?? value),
  );
}

/** A six-digit one-time code. */
export const codeSchema = z.string().check(
  z.trim(),
  z.minLength(1, 'validation.codeRequired'),
  z.regex(/^\d{6}$/, 'validation.codeInvalid'),
);

function firstIssue(result: { success: boolean; error?: { issues: { message: string }[] } }): string | null {
  return result.success ? null : (result.error?.issues[0]?.message ?? 'validation.phoneInvalid');
}

/** Why `value` cannot be a phone number (an i18n key), or null when it can. */
export function phoneProblem(value: string, country: CountryCode | null = browserCountry() ?? null): string | null {
  return firstIssue(phoneSchema(country).safeParse(value));
}

/** Why `value` cannot be a one-time code, or null when it can. */
export function codeProblem(value: string): string | null {
  return firstIssue(codeSchema.safeParse(value));
}
