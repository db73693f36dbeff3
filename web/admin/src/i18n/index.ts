/** The Admin UI's catalogs: the shared texts plus its own, in every language. */
import type { Catalog, Locale } from '@nudges/shared/i18n';
import { shared } from '@nudges/shared/messages';
import { de } from './de';
import { en } from './en';
import { es } from './es';
import { fr } from './fr';

export const own: Record<Locale, Catalog> = { en, es, fr, de };

export const catalogs: Record<Locale, Catalog> = {
  en: { ...shared.en, ...en },
  es: { ...shared.es, ...es },
  fr: { ...shared.fr, ...fr },
  de: { ...shared.de, ...de },
};
