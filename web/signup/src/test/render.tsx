import { render } from '@testing-library/react';
import type { ReactElement } from 'react';

import { catalogs } from '../i18n';
import { I18nProvider, type Locale } from '@nudges/shared/i18n';
import { SessionProvider } from '../session';

export function renderIn(ui: ReactElement, locale: Locale = 'en') {
  return render(
    <I18nProvider catalogs={catalogs} locale={locale}>
      <SessionProvider>{ui}</SessionProvider>
    </I18nProvider>,
  );
}
