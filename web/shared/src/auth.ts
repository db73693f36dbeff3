/** AuthApi: phone one-time codes, sign-out. The session is the HttpOnly TokenId cookie. */
import { ApiError, codeOfStatus, retryAfterSeconds } from './errors';

export type Role = 'admin' | 'client' | 'subscriber';

export interface CodeSent {
  expiresIn: number;
  /** Only in development (OTP_ECHO): the code itself. */
  code?: string;
}

async function post(path: string, body: unknown, field: string): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(path, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (cause) {
    throw new ApiError([{ code: 'NETWORK', message: String(cause) }]);
  }
  const text = await response.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (response.ok) return json;
  throw authError(response.status, response.headers.get('retry-after'), json, field);
}

/** The {@link ApiError} of an AuthApi refusal (`{detail}` or FastAPI's validation list). */
export function authError(status: number, retryAfter: string | null, body: unknown, field: string): ApiError {
  const detail = (body as { detail?: unknown } | undefined)?.detail;
  let message = `HTTP ${status}`;
  let problemField: string | undefined = status === 422 || status === 400 ? field : undefined;
  if (typeof detail === 'string') {
    message = detail;
  } else if (Array.isArray(detail) && detail.length) {
    const first = detail[0] as { msg?: string; loc?: unknown[] };
    message = first.msg ?? message;
    const loc = first.loc?.[first.loc.length - 1];
    if (typeof loc === 'string') problemField = loc;
  }
  const code = status === 400 ? 'CODE_REJECTED' : codeOfStatus(status);
  const seconds = retryAfterSeconds(retryAfter);
  return new ApiError(
    [
      {
        code,
        message,
        ...(problemField ? { field: problemField } : {}),
        ...(seconds !== undefined ? { retryAfter: seconds } : {}),
      },
    ],
    status,
  );
}

/** Sends a six-digit code to `phone` by SMS. */
export async function requestCode(phone: string, role: Role): Promise<CodeSent> {
  const body = (await post('/auth/otp', { phone, role }, 'phone')) as
    | { expires_in?: number; code?: string }
    | undefined;
  return { expiresIn: body?.expires_in ?? 300, ...(body?.code ? { code: body.code } : {}) };
}

/** Exchanges the code for a session (the server sets the TokenId cookie). */
export async function verifyCode(phone: string, code: string, role: Role): Promise<void> {
  await post('/auth/otp/verify', { phone, code, role }, 'code');
}

/** Ends the session. */
export async function signOut(): Promise<void> {
  await post('/auth/logout', undefined, 'session');
}

/** Where an admin starts the OIDC (Keycloak) login. */
export const OIDC_LOGIN_PATH = '/auth/login';
