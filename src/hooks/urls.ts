/**
 * The rules for the URLs fogpilot calls out to (hooks and notification endpoints), and the forms of them that may be
 * shown. Pure string work on the WHATWG `URL`.
 */
import { credentialLikeQueryParameter } from '../domain/inputs';

/** Hosts plain `http` is allowed for: this machine only (a sidecar, a test receiver). */
const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Why `value` cannot be called out to, as a sentence naming `key`, or undefined when it can: an absolute `https` URL,
 * or `http` to localhost/127.0.0.1; no `user:password@`; no credential-like query parameter (`sig`, `token`, `key`, …),
 * since the file is no place for secrets.
 */
export function outboundUrlProblem(key: string, value: string, fix: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `${key} must be an absolute URL such as https://hooks.example.com/path`;
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOCAL_HOSTS.has(url.hostname))) {
    return `${key} must be https (plain http only to localhost or 127.0.0.1), not ${url.protocol.replace(/:$/, '')}://${url.host}`;
  }
  if (url.username !== '' || url.password !== '') {
    return `${key} must not carry credentials (user:password@): ${fix}`;
  }
  const parameter = credentialLikeQueryParameter(value);
  if (parameter !== undefined) {
    return `${key} must not carry a credential in its query string (the parameter "${parameter}" looks like one): ${fix}`;
  }
  return undefined;
}

/**
 * Whether a URL read from the environment can be called: absolute, https (or http to this machine), no
 * `user:password@`. Its query string may carry a credential: the variable is a secret.
 */
export function isCallableUrl(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  return (
    (url.protocol === 'https:' || (url.protocol === 'http:' && LOCAL_HOSTS.has(url.hostname))) &&
    url.username === '' &&
    url.password === ''
  );
}

/** `https://host:port`: all of a URL that may be shown when the URL itself is a secret. */
export function urlOrigin(value: string): string {
  try {
    return new URL(value).origin;
  } catch {
    return '(not a URL)';
  }
}

/** `https://host:port/path`: the URL without its query string, fragment or credentials. */
export function urlWithoutQuery(value: string): string {
  try {
    const url = new URL(value);
    return `${url.origin}${url.pathname}`;
  } catch {
    return '(not a URL)';
  }
}
