/** Numbers, money (integer minor units plus ISO currency) and dates in the reader's language. */

function fractionDigits(currency: string): number {
  try {
    return (
      new Intl.NumberFormat('en', { style: 'currency', currency: currency.toUpperCase() }).resolvedOptions()
        .maximumFractionDigits ?? 2
    );
  } catch {
    return 2;
  }
}

/** `amount` minor units of `currency` (e.g. 900 usd) as the reader writes money ($9.00). */
export function formatMoney(amount: number, currency: string, locale: string): string {
  const code = currency.toUpperCase();
  const value = amount / 10 ** fractionDigits(code);
  try {
    return new Intl.NumberFormat(locale, { style: 'currency', currency: code }).format(value);
  } catch {
    return `${value.toFixed(2)} ${code}`;
  }
}

/** Major units typed in a form (e.g. "9.50") as minor units (950), or null when not a number. */
export function toMinorUnits(text: string, currency: string): number | null {
  const normalised = text.trim().replace(',', '.');
  if (!/^\d+(\.\d+)?$/.test(normalised)) return null;
  const digits = fractionDigits(currency.toUpperCase());
  const [whole = '0', fraction = ''] = normalised.split('.');
  if (fraction.length > digits) return null;
  return Number(whole) * 10 ** digits + Number(fraction.padEnd(digits, '0') || '0');
}

/** Minor units as the major-unit text a form shows ("9.50"). */
export function fromMinorUnits(amount: number, currency: string): string {
  const digits = fractionDigits(currency.toUpperCase());
  return digits ? (amount / 10 ** digits).toFixed(digits) : String(amount);
}

export function formatNumber(value: number, locale: string): string {
  return new Intl.NumberFormat(locale).format(value);
}

export function formatDate(iso: string | null | undefined, locale: string): string {
  if (!iso) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? '—' : new Intl.DateTimeFormat(locale, { dateStyle: 'medium' }).format(date);
}

export function formatDateTime(iso: string | null | undefined, locale: string): string {
  if (!iso) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime())
    ? '—'
    : new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' }).format(date);
}
