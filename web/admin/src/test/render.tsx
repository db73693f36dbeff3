import { render } from '@testing-library/react';
import type { ReactElement } from 'react';

import { catalogs } from '../i18n';
import { resetSession } from '@nudges/shared/graphql';
import { I18nProvider, type Locale } from '@nudges/shared/i18n';
import { AppRouter } from '@nudges/shared/router';
import { GraphProvider } from '@nudges/shared/ui';

/** `ui` in English (or `locale`), on a new graph client: no cache carried over from another test. */
export function renderIn(ui: ReactElement, locale: Locale = 'en') {
  resetSession();
  return render(
    <GraphProvider>
    <I18nProvider catalogs={catalogs} locale={locale}>
      <AppRouter>{ui}</AppRouter>
    </I18nProvider>
    </GraphProvider>,
  );
}
