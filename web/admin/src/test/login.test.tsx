import { fireEvent, screen, waitFor } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';

import { Login } from '../pages/Login';
import { fakeFetch } from './fetch';
import { renderIn } from './render';

function typeInto(label: RegExp, value: string) {
  fireEvent.change(screen.getByLabelText(label), { target: { value } });
}

describe('admin sign-in', () => {
  it('checks the phone number before asking for a code', async () => {
    const calls = fakeFetch(() => ({ status: 202, json: {} }));
    renderIn(<Login onSignedIn={() => undefined} notAdmin={false} />);
    fireEvent.click(screen.getByRole('button', { name: 'Text me a code' }));
    expect(await screen.findByText('Enter your phone number.')).toBeTruthy();
    typeInto(/^Phone number/, '415555');
    fireEvent.click(screen.getByRole('button', { name: 'Text me a code' }));
    expect(await screen.findByText(/That does not look like a phone number/)).toBeTruthy();
    expect(screen.getByLabelText(/^Phone number/).getAttribute('aria-invalid')).toBe('true');
    expect(calls).toEqual([]);
  });

  it('asks for the code as an admin, then signs in', async () => {
    const calls = fakeFetch(({ url }) =>
      url === '/auth/otp' ? { status: 202, json: { sent: true, expires_in: 300, code: '123456' } } : { json: { access_token: 'a', expires_in: 900, refresh_token: 'r' } },
    );
    const signedIn = vi.fn();
    renderIn(<Login onSignedIn={signedIn} notAdmin={false} />);
    typeInto(/^Phone number/, '+1 415 555 0100');
    fireEvent.click(screen.getByRole('button', { name: 'Text me a code' }));
    expect((await screen.findByTestId('dev-code')).textContent).toBe('Development: your code is 123456');
    typeInto(/Six-digit code/, '12345');
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByText('The code is six digits.')).toBeTruthy();
    typeInto(/Six-digit code/, '123456');
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    await waitFor(() => expect(signedIn).toHaveBeenCalled());
    expect(calls.map((c) => [c.url, c.body])).toEqual([
      ['/auth/otp', { phone: '+14155550100', role: 'admin' }],
      ['/auth/otp/verify', { phone: '+14155550100', code: '123456', role: 'admin' }],
    ]);
  });

  it('reads the number in the picked country (the browser’s at first), formatted as typed', async () => {
    const calls = fakeFetch(() => ({ status: 202, json: { sent: true, expires_in: 300 } }));
    renderIn(<Login onSignedIn={() => undefined} notAdmin={false} />);
    const country = screen.getByLabelText('Country') as HTMLSelectElement;
    expect(country.value).toBe('US');
    typeInto(/^Phone number/, '4155550100');
    expect((screen.getByLabelText(/^Phone number/) as HTMLInputElement).value).toBe('(415) 555-0100');
    fireEvent.change(country, { target: { value: 'FR' } });
    typeInto(/^Phone number/, '0612345678');
    expect((screen.getByLabelText(/^Phone number/) as HTMLInputElement).value).toBe('06 12 34 56 78');
    fireEvent.click(screen.getByRole('button', { name: 'Text me a code' }));
    await waitFor(() => expect(calls.map((c) => c.body)).toEqual([{ phone: '+33612345678', role: 'admin' }]));
  });

  it('asks for the country code when no country is picked', async () => {
    const calls = fakeFetch(() => ({ status: 202, json: {} }));
    renderIn(<Login onSignedIn={() => undefined} notAdmin={false} />);
    fireEvent.change(screen.getByLabelText('Country'), { target: { value: '' } });
    typeInto(/^Phone number/, '612345678');
    fireEvent.click(screen.getByRole('button', { name: 'Text me a code' }));
    expect(await screen.findByText(/Start with \+ and your country code/)).toBeTruthy();
    expect(calls).toEqual([]);
  });

  it('says how long to wait when rate limited', async () => {
    fakeFetch(() => ({ status: 429, headers: { 'retry-after': '30' }, json: { detail: 'too many codes for this number' } }));
    renderIn(<Login onSignedIn={() => undefined} notAdmin={false} />);
    typeInto(/^Phone number/, '+14155550100');
    fireEvent.click(screen.getByRole('button', { name: 'Text me a code' }));
    expect((await screen.findByRole('alert')).textContent).toContain('Please try again in 30 seconds.');
  });

  it('explains a wrong code beside the field', async () => {
    fakeFetch(({ url }) =>
      url === '/auth/otp' ? { status: 202, json: { sent: true, expires_in: 300 } } : { status: 400, json: { detail: 'wrong code' } },
    );
    renderIn(<Login onSignedIn={() => undefined} notAdmin={false} />, 'fr');
    typeInto(/^Numéro de téléphone/, '+33612345678');
    fireEvent.click(screen.getByRole('button', { name: 'M’envoyer un code' }));
    await screen.findByLabelText(/Code à six chiffres/);
    typeInto(/Code à six chiffres/, '000000');
    fireEvent.click(await screen.findByRole('button', { name: 'Se connecter' }));
    expect(await screen.findByText(/Ce code est erroné ou a expiré/)).toBeTruthy();
  });

  it('offers single sign-on', () => {
    renderIn(<Login onSignedIn={() => undefined} notAdmin />);
    expect(screen.getByRole('link', { name: 'Sign in with single sign-on' }).getAttribute('href')).toBe('/auth/login');
    expect(screen.getByRole('status').textContent).toMatch(/not as an admin/);
  });
});
