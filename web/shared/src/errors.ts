/** Problems the API reports, and what they mean in words a person understands. */

/** One problem: a GraphQL `extensions.code` or an AuthApi status, with the field it concerns. */
export interface ApiProblem {
  code: string;
  message: string;
  field?: string;
  retryAfter?: number;
}

/** An error from `/graphql` or `/auth`; `problems` keeps every error the server sent. */
export class ApiError extends Error {
  readonly problems: ApiProblem[];
  readonly status: number | undefined;

  constructor(problems: ApiProblem[], status?: number) {
    super(problems.map((p) => p.message).join('; ') || 'request failed');
    this.name = 'ApiError';
    this.problems = problems.length ? problems : [{ code: 'UNKNOWN', message: 'request failed' }];
    this.status = status;
  }

  get code(): string {
    return this.problems[0]?.code ?? 'UNKNOWN';
  }

  has(code: string): boolean {
    return this.problems.some((p) => p.code === code);
  }
}

/** The code of an HTTP status when the body said nothing more precise. */
export function codeOfStatus(status: number): string {
  if (status === 400) return 'BAD_REQUEST';
  if (status === 401) return 'UNAUTHENTICATED';
  if (status === 403) return 'FORBIDDEN';
  if (status === 404) return 'NOT_FOUND';
  if (status === 409) return 'CONFLICT';
  if (status === 422) return 'BAD_USER_INPUT';
  if (status === 429) return 'RATE_LIMITED';
  if (status === 502 || status === 503 || status === 504) return 'UNAVAILABLE';
  return 'SERVER_ERROR';
}

/** Seconds from a `Retry-After` header (seconds or an HTTP date). */
export function retryAfterSeconds(header: string | null, now: number = Date.now()): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, Math.ceil(seconds));
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - now) / 1000));
}

/** Whether the graph lacks a field the page asked for (a subgraph that does not serve it yet):
 * graphql-js validation says "Cannot query field 'x' on type 'Query'". */
export function isMissingField(error: unknown, field: string): boolean {
  if (!(error instanceof ApiError)) return false;
  return error.problems.some(
    (p) =>
      p.message.includes(`Cannot query field '${field}'`) ||
      p.message.includes(`Cannot query field "${field}"`),
  );
}

type Translate = (key: string, params?: Record<string, string | number>) => string;

/** Sentences for a person, one per distinct problem, in the current language. */
export function describeError(error: unknown, t: Translate): string[] {
  if (!(error instanceof ApiError)) {
    return [t('error.unexpected')];
  }
  const seen = new Set<string>();
  const lines: string[] = [];
  for (const problem of error.problems) {
    const line = describeProblem(problem, t);
    if (!seen.has(line)) {
      seen.add(line);
      lines.push(line);
    }
  }
  return lines;
}

function fieldLabel(field: string, t: Translate): string {
  const key = `field.${field}`;
  const label = t(key);
  return label === key ? field : label;
}

function describeProblem(problem: ApiProblem, t: Translate): string {
  switch (problem.code) {
    case 'UNAUTHENTICATED':
      return t('error.unauthenticated');
    case 'FORBIDDEN':
      return t('error.forbidden');
    case 'NOT_FOUND':
      return t('error.notFound');
    case 'BAD_USER_INPUT':
      return problem.field
        ? t('error.badInputField', { field: fieldLabel(problem.field, t), detail: problem.message })
        : t('error.badInput', { detail: problem.message });
    case 'CONFLICT':
      return problem.field
        ? t('error.conflictField', { field: fieldLabel(problem.field, t), detail: problem.message })
        : t('error.conflict', { detail: problem.message });
    case 'RATE_LIMITED':
      return problem.retryAfter !== undefined
        ? t('error.rateLimitedFor', { seconds: problem.retryAfter })
        : t('error.rateLimited');
    case 'CODE_REJECTED':
      return t('error.codeRejected');
    case 'NETWORK':
      return t('error.network');
    case 'UNAVAILABLE':
    case 'GATEWAY_TIMEOUT':
      return t('error.unavailable');
    default:
      // The gateway's codes for a subgraph it could not reach or that answered badly.
      return problem.code.startsWith('SUBGRAPH_') ? t('error.unavailable') : t('error.unexpected');
  }
}

/** Codes whose problem concerns one field when the server names it: a value to correct, or one
 * that is taken (CONFLICT: an address, a keyword). */
const FIELD_CODES = new Set(['BAD_USER_INPUT', 'CODE_REJECTED', 'CONFLICT']);

/** Per-field messages of the problems that name a field, for the inputs of a form. */
export function fieldErrors(error: unknown, t: Translate): Record<string, string> {
  const found: Record<string, string> = {};
  if (!(error instanceof ApiError)) return found;
  for (const problem of error.problems) {
    if (problem.field && FIELD_CODES.has(problem.code)) {
      found[problem.field] = describeProblem(problem, t);
    }
  }
  return found;
}
