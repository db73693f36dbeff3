/** Texts through FormatJS (react-intl): flat catalogs of ICU MessageFormat messages per language
 * (`{name}` arguments, `{count, plural, one {…} other {…}}`), language from the browser, a
 * switcher, remembered. Pages call `t(id, values)` from `useI18n()`. */
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { createIntl, createIntlCache, IntlProvider, useIntl, type IntlShape } from 'react-intl';

export const LOCALES = ['en', 'es', 'fr', 'de'] as const;
export type Locale = (typeof LOCALES)[number];
/** Message id to ICU MessageFormat text. */
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

/** A missing id shows as the English text (catalogs are checked to have every id). */
function messagesOf(catalogs: Record<Locale, Catalog>, locale: Locale): Catalog {
  return locale === 'en' ? catalogs.en : { ...catalogs.en, ...catalogs[locale] };
}

function reportError(error: { code: string; message: string }): void {
  // Missing translations fall back to English; anything else is a broken message.
  if (error.code !== 'MISSING_TRANSLATION') console.error(error.message);
}

function translate(intl: IntlShape): Translate {
  return (key, params) => intl.formatMessage({ id: key }, params);
}

/** The translate function of one language, outside React (tests, error texts). */
export function translator(catalogs: Record<Locale, Catalog>, locale: Locale): Translate {
  return translate(
    createIntl({ locale, defaultLocale: 'en', messages: messagesOf(catalogs, locale), onError: reportError }, createIntlCache()),
  );
}

interface Chosen {
  locale: Locale;
  setLocale: (locale: Locale) => void;
}

interface I18n extends Chosen {
  t: Translate;
}

const LocaleContext = createContext<Chosen | null>(null);

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
  const messages = useMemo(() => messagesOf(catalogs, locale), [catalogs, locale]);
  const chosen = useMemo(() => ({ locale, setLocale }), [locale, setLocale]);
  return (
    <IntlProvider locale={locale} defaultLocale="en" messages={messages} onError={reportError}>
      <LocaleContext.Provider value={chosen}>{children}</LocaleContext.Provider>
    </IntlProvider>
  );
}

export function useI18n(): I18n {
  const chosen = useContext(LocaleContext);
  if (!chosen) throw new Error('useI18n outside I18nProvider');
  const intl = useIntl();
  const t = useMemo(() => translate(intl), [intl]);
  return { ...chosen, t };
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
