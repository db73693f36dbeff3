import { fireEvent, screen, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';

import { issuesOf } from '@nudges/shared/form';

import { profileSchema, Signup } from '../pages/Signup';
import { slugOf } from '../pricing';
import { fakeFetch, operationOf } from './fetch';
import { renderIn } from './render';

describe('client signup', () => {
  it('makes an address from a name', () => {
    expect(slugOf('Trail Runners!')).toBe('trail-runners');
    expect(slugOf('Café Müller')).toBe('cafe-muller');
    const profile = (slug: string, name = 'Book Club') => issuesOf(profileSchema, { name, slug, locale: 'en' });
    expect(profile('ab')).toEqual({ slug: 'signup.slugInvalid' });
    expect(profile('-club')).toEqual({ slug: 'signup.slugInvalid' });
    expect(profile(' ', ' ')).toEqual({ name: 'validation.required', slug: 'validation.required' });
    expect(profile('book-club')).toEqual({});
  });

  it('signs in as a client, then creates the client with name, address and language', async () => {
    const calls = fakeFetch(({ url, body }) => {
      if (url === '/auth/otp') return { status: 202, json: { sent: true, expires_in: 300, code: '654321' } };
      if (url === '/auth/otp/verify') return { json: { access_token: 'a', expires_in: 900, refresh_token: 'r' } };
      if (operationOf({ url, body }) === 'CreateClient') {
        return { json: { data: { createClient: { id: 'c1', name: 'Book Club', slug: 'book-club' } } } };
      }
      return { json: { data: { viewer: null } } };
    });
    renderIn(<Signup />, 'es');
    fireEvent.change(await screen.findByLabelText(/^Número de teléfono/), { target: { value: '+34 612 345 678' } });
    fireEvent.click(screen.getByRole('button', { name: 'Envíame un código' }));
    fireEvent.change(await screen.findByLabelText(/Código de seis dígitos/), { target: { value: '654321' } });
    fireEvent.click(screen.getByRole('button', { name: 'Iniciar sesión' }));
    fireEvent.change(await screen.findByLabelText('Tu nombre u organización'), { target: { value: 'Book Club' } });
    expect((screen.getByLabelText('La dirección de tu página') as HTMLInputElement).value).toBe('book-club');
    fireEvent.click(screen.getByRole('button', { name: 'Crear mi página' }));
    await waitFor(() => expect(window.location.pathname).toBe('/plans'));
    const create = calls.find((c) => operationOf(c) === 'CreateClient');
    expect(create?.body.variables).toEqual({ input: { name: 'Book Club', slug: 'book-club', locale: 'es' } });
    expect(calls.find((c) => c.url === '/auth/otp')?.body).toEqual({ phone: '+34612345678', role: 'client' });
  });

  it('shows a taken address (CONFLICT) in words and keeps the form', async () => {
    fakeFetch(({ url, body }) => {
      if (url === '/auth/otp') return { status: 202, json: { sent: true, expires_in: 300 } };
      if (url === '/auth/otp/verify') return { json: { access_token: 'a', expires_in: 900, refresh_token: 'r' } };
      if (operationOf({ url, body }) === 'CreateClient') {
        return { json: { data: null, errors: [{ message: 'the address book-club is taken', extensions: { code: 'CONFLICT' } }] } };
      }
      return { json: { data: { viewer: null } } };
    });
    renderIn(<Signup />);
    fireEvent.change(await screen.findByLabelText(/^Phone number/), { target: { value: '+14155550100' } });
    fireEvent.click(screen.getByRole('button', { name: 'Text me a code' }));
    fireEvent.change(await screen.findByLabelText(/Six-digit code/), { target: { value: '111111' } });
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    fireEvent.change(await screen.findByLabelText('Your name or organisation'), { target: { value: 'Book Club' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create my page' }));
    expect((await screen.findByRole('alert')).textContent).toBe('This can’t be done right now: the address book-club is taken');
    expect(screen.getByLabelText('Your name or organisation')).toBeTruthy();
  });

  it('refuses an empty name and a bad address before sending', async () => {
    const calls = fakeFetch(({ url }) =>
      url.startsWith('/auth') ? { status: url === '/auth/otp' ? 202 : 200, json: {} } : { json: { data: { viewer: null } } },
    );
    renderIn(<Signup />);
    fireEvent.change(await screen.findByLabelText(/^Phone number/), { target: { value: '+14155550100' } });
    fireEvent.click(screen.getByRole('button', { name: 'Text me a code' }));
    fireEvent.change(await screen.findByLabelText(/Six-digit code/), { target: { value: '111111' } });
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    fireEvent.change(await screen.findByLabelText('Your page address'), { target: { value: 'x' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create my page' }));
    expect(await screen.findByText('This is required.')).toBeTruthy();
    expect(screen.getByText(/Use 3 to 40 lowercase letters/)).toBeTruthy();
    expect(calls.some((c) => operationOf(c) === 'CreateClient')).toBe(false);
  });
});
