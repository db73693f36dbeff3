/** Forms: react-hook-form, checked by a zod schema (`zod/mini`) whose issue messages are i18n
 * ids. Checked on submit, then again as the person corrects a field; the first invalid field
 * takes focus; what the server says about a field (BAD_USER_INPUT with `field`) shows when the
 * form itself has nothing to say about it. */
import { zodResolver } from '@hookform/resolvers/zod';
import { get, useForm, type DefaultValues, type FieldErrors, type FieldValues, type UseFormReturn } from 'react-hook-form';
import { z } from 'zod/mini';

import { fieldErrors } from './errors';
import type { Translate } from './i18n';

export type FormOf<S extends z.ZodMiniType> = UseFormReturn<z.input<S> & FieldValues, unknown, z.output<S> & FieldValues>;

/** A form over `schema`, starting from `defaults`. */
export function useSchemaForm<S extends z.ZodMiniType>(schema: S, defaults: DefaultValues<z.input<S> & FieldValues>): FormOf<S> {
  return useForm<z.input<S> & FieldValues, unknown, z.output<S> & FieldValues>({
    // The resolver's overloads cannot follow a generic schema; the values are typed by S above.
    resolver: zodResolver(schema as never) as never,
    defaultValues: defaults,
    mode: 'onSubmit',
    reValidateMode: 'onChange',
    shouldFocusError: true,
  });
}

/** The message to show beside each field: the form's own (translated), else the server's. */
export function problems(errors: FieldErrors, serverError: unknown, t: Translate): (name: string) => string | undefined {
  const server = fieldErrors(serverError, t);
  return (name) => {
    const own = get(errors, name) as { message?: string } | undefined;
    return own?.message ? t(own.message) : server[name];
  };
}

/** The issues of `value` against `schema`, as i18n ids by field path (`amounts.WEEK`). */
export function issuesOf(schema: z.ZodMiniType, value: unknown): Record<string, string> {
  const result = schema.safeParse(value);
  const found: Record<string, string> = {};
  if (result.success) return found;
  for (const issue of result.error.issues) {
    const path = issue.path.join('.');
    found[path] ??= issue.message;
  }
  return found;
}

/** A search box: what was typed, trimmed. */
export const searchSchema = z.object({ search: z.string().check(z.trim()) });

/** A search form's state and submit handler: `onSearch` gets the trimmed text. */
export function useSearchForm(onSearch: (search: string) => void) {
  const form = useSchemaForm(searchSchema, { search: '' });
  return { field: form.register('search'), onSubmit: form.handleSubmit((value) => onSearch(value.search)) };
}
