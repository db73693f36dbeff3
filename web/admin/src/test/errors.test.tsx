import { screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';

import { catalogs } from '../i18n';
import { authError } from '@nudges/shared/auth';
import { ApiError, describeError, isMissingField } from '@nudges/shared/errors';
import { gql } from '@nudges/shared/graphql';
import { translator } from '@nudges/shared/i18n';
import { ErrorMessage } from '@nudges/shared/ui';
import { fakeFetch } from './fetch';
import { renderIn } from './render';

const t = translator(catalogs, 'en');

describe('errors in words', () => {
  it.each([
    ['UNAUTHENTICATED', /not signed in/],
    ['FORBIDDEN', /not allowed/],
    ['NOT_FOUND', /could not find/],
    ['CONFLICT', /can’t be done right now: slug taken/],
    ['INTERNAL_SERVER_ERROR', /went wrong on our side/],
    ['SUBGRAPH_UNREACHABLE', /briefly unavailable/],
    ['GATEWAY_TIMEOUT', /briefly unavailable/],
  ])('%s', (code, words) => {
    expect(describeError(new ApiError([{ code, message: 'slug taken' }]), t).join(' ')).toMatch(words);
  });

  it('names the field of BAD_USER_INPUT', () => {
    const error = new ApiError([{ code: 'BAD_USER_INPUT', field: 'slug', message: 'use letters and digits' }]);
    expect(describeError(error, t)).toEqual(['Please check “Address”: use letters and digits']);
  });

  it('says how long to wait after a 429 with Retry-After', () => {
    const error = authError(429, '42', { detail: 'too many codes' }, 'phone');
    expect(describeError(error, t)).toEqual(['Too many attempts. Please try again in 42 seconds.']);
  });

  it('reads GraphQL errors and their codes from the gateway', async () => {
    fakeFetch(() => ({ json: { data: null, errors: [{ message: 'sign in first', extensions: { code: 'UNAUTHENTICATED' } }] } }));
    const error = await gql('query X { viewer { __typename } }').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).code).toBe('UNAUTHENTICATED');
  });

  it('tells a network failure apart', async () => {
    fakeFetch(() => {
      throw new TypeError('Failed to fetch');
    });
    const error = await gql('query X { viewer { __typename } }').catch((e: unknown) => e);
    expect(describeError(error, t)).toEqual(['We cannot reach Nudges. Check your connection and try again.']);
  });

  it('recognises a field the graph does not have', () => {
    const error = new ApiError([
      { code: 'GRAPHQL_VALIDATION_FAILED', message: "Cannot query field 'deadLetters' on type 'Query'." },
    ]);
    expect(isMissingField(error, 'deadLetters')).toBe(true);
    expect(isMissingField(error, 'plans')).toBe(false);
  });

  it('renders as an alert, translated', () => {
    renderIn(<ErrorMessage error={new ApiError([{ code: 'FORBIDDEN', message: 'no' }])} />, 'es');
    expect(screen.getByRole('alert').textContent).toBe('Esta cuenta no tiene permiso para hacer eso.');
  });
});
