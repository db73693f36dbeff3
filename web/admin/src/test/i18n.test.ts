import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { parse, TYPE, type MessageFormatElement } from '@formatjs/icu-messageformat-parser';

import { catalogs } from '../i18n';
import { detectLocale, LOCALES, translator } from '@nudges/shared/i18n';

/** The argument names of an ICU message (`{name}`, `{count, plural, …}`, in every branch). */
function argumentsOf(elements: MessageFormatElement[], found = new Set<string>()): Set<string> {
  for (const element of elements) {
    if (element.type === TYPE.literal || element.type === TYPE.pound) continue;
    if (element.type === TYPE.tag) {
      argumentsOf(element.children, found);
      continue;
    }
    found.add(element.value);
    if (element.type === TYPE.plural || element.type === TYPE.select) {
      for (const option of Object.values(element.options)) argumentsOf(option.value, found);
    }
  }
  return found;
}

const placeholders = (text: string) => [...argumentsOf(parse(text))].sort();

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'test' || name === 'i18n' ? [] : sources(path);
    return /\.tsx?$/.test(name) && !name.endsWith('.test.tsx') && !name.endsWith('.test.ts') ? [path] : [];
  });
}

describe('catalogs', () => {
  const english = Object.keys(catalogs.en).sort();

  it.each(LOCALES)('%s has every key of English, and no other', (locale) => {
    expect(Object.keys(catalogs[locale]).sort()).toEqual(english);
  });

  it.each(LOCALES)('%s has only messages that parse as ICU MessageFormat', (locale) => {
    const broken = Object.entries(catalogs[locale]).flatMap(([key, text]) => {
      try {
        parse(text);
        return [];
      } catch (error) {
        return [`${key}: ${String(error)}`];
      }
    });
    expect(broken).toEqual([]);
  });

  it.each(LOCALES)('%s keeps the arguments of each English text', (locale) => {
    for (const key of english) {
      expect([key, placeholders(catalogs[locale][key] ?? '')]).toEqual([key, placeholders(catalogs.en[key] ?? '')]);
    }
  });

  it.each(LOCALES)('%s has no empty text', (locale) => {
    expect(Object.entries(catalogs[locale]).filter(([, text]) => !text.trim())).toEqual([]);
  });

  it('has a text for every key the code asks for', () => {
    const root = join(__dirname, '..');
    const used = new Set<string>();
    for (const file of sources(root)) {
      for (const match of readFileSync(file, 'utf8').matchAll(/\bt\(\s*'([a-zA-Z]+\.[a-zA-Z.]+)'/g)) {
        used.add(match[1] ?? '');
      }
    }
    expect(used.size).toBeGreaterThan(50);
    const missing = [...used].filter((key) => !(key in catalogs.en));
    expect(missing).toEqual([]);
  });
});

describe('translator', () => {
  it('fills arguments and picks plural forms by the rules of the language', () => {
    const t = translator(catalogs, 'en');
    expect(t('pager.range', { from: 1, to: 20, total: 45 })).toBe('1–20 of 45');
    expect(t('discounts.monthsCount', { count: 1 })).toBe('1 month');
    expect(t('discounts.monthsCount', { count: 3 })).toBe('3 months');
    expect(translator(catalogs, 'de')('discounts.monthsCount', { count: 12 })).toBe('12 Monate');
  });

  it('speaks the chosen language', () => {
    expect(translator(catalogs, 'de')('nav.plans')).toBe('Tarife');
    expect(translator(catalogs, 'fr')('nav.plans')).toBe('Offres');
    expect(translator(catalogs, 'es')('nav.plans')).toBe('Planes');
  });

  it('takes the language from the browser, else English', () => {
    expect(detectLocale(['de-AT', 'en'])).toBe('de');
    expect(detectLocale(['pt-BR', 'es-MX'])).toBe('es');
    expect(detectLocale(['ja'])).toBe('en');
  });
});
