/** A small i18n layer: flat catalogs per language, `{name}` parameters, plural keys
 * (`key.one` / `key.other`) chosen with Intl.PluralRules, language from the browser. */
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';

export const LOCALES = ['en', 'es', 'fr', 'de'] as const;
export type Locale = (typeof LOCALES)[number];
export type Catalog = Record<string, string>;
export type Params = Record<string, string | number>;
export type Translate = (key: string, params?: Params) => string;

const STORAGE_KEY = 'nudges.locale';

/** The first supported language of the browser's list, else English. */
export function detectLocale(languages: readonly string[]): Locale {
  for (const language of languages) {
    const base = language.toLowerCase().split('-')[0];
    const found = LOCALES.find((l) => l === base);
    if (found) return found;
  }
  return 'en';
}

function initialLocale(): Locale {
  try {
    const saved = window.localStorage.getItem(STORAGE_KEY);
    const found = LOCALES.find((l) => l === saved);
    if (found) return found;
  } catch {
    // Storage may be blocked; the browser's languages still decide.
  }
  const languages = navigator.languages?.length ? navigator.languages : [navigator.language ?? 'en'];
  return detectLocale(languages);
}

function interpolate(text: string, params?: Params): string {
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in params ? String(params[name]) : whole,
  );
}

/** The translate function of one catalog, falling back to English, then to the key. */
export function translator(catalogs: Record<Locale, Catalog>, locale: Locale): Translate {
  const rules = new Intl.PluralRules(locale);
  const numbers = new Intl.NumberFormat(locale);
  return (key, params) => {
    let chosen = key;
    if (params && typeof params.count === 'number') {
      const plural = `${key}.${rules.select(params.count)}`;
      chosen = plural in catalogs[locale] || plural in catalogs.en ? plural : `${key}.other`;
      params = { ...params, count: numbers.format(params.count) };
    }
    const text = catalogs[locale][chosen] ?? catalogs.en[chosen];
    return text === undefined ? key : interpolate(text, params);
  };
}

interface I18n {
  locale: Locale;
  setLocale: (locale: Locale) => void;
  t: Translate;
}

const I18nContext = createContext<I18n | null>(null);

export function I18nProvider({
  catalogs,
  locale: fixed,
  children,
}: {
  catalogs: Record<Locale, Catalog>;
  locale?: Locale;
  children: ReactNode;
}) {
  const [locale, setLocaleState] = useState<Locale>(() => fixed ?? initialLocale());
  const setLocale = useCallback((next: Locale) => {
    setLocaleState(next);
    try {
      window.localStorage.setItem(STORAGE_KEY, next);
    } catch {
      // Not remembered across visits, still applied now.
    }
  }, []);
  useEffect(() => {
    document.documentElement.lang = locale;
  }, [locale]);
  const value = useMemo(() => ({ locale, setLocale, t: translator(catalogs, locale) }), [catalogs, locale, setLocale]);
  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

export function useI18n(): I18n {
  const found = useContext(I18nContext);
  if (!found) throw new Error('useI18n outside I18nProvider');
  return found;
}

const NATIVE_NAMES: Record<Locale, string> = { en: 'English', es: 'Español', fr: 'Français', de: 'Deutsch' };

/** The language menu; each language is named in itself. */
export function LanguageSwitcher() {
  const { locale, setLocale, t } = useI18n();
  return (
    <label className="language">
      <span>{t('common.language')}</span>
      <select value={locale} onChange={(e) => setLocale(e.target.value as Locale)}>
        {LOCALES.map((l) => (
          <option key={l} value={l} lang={l}>
            {NATIVE_NAMES[l]}
          </option>
        ))}
      </select>
    </label>
  );
}
