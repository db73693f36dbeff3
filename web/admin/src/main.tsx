import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';

import { App } from './App';
import { catalogs } from './i18n';
import { I18nProvider } from '@nudges/shared/i18n';
import { AppRouter } from '@nudges/shared/router';
import { GraphProvider } from '@nudges/shared/ui';
import '@nudges/shared/styles.css';

const root = document.getElementById('root');
if (root) {
  createRoot(root).render(
    <StrictMode>
      <GraphProvider>
      <I18nProvider catalogs={catalogs}>
        <AppRouter>
            <App />
          </AppRouter>
      </I18nProvider>
      </GraphProvider>
    </StrictMode>,
  );
}
