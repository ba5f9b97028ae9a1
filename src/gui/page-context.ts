/** What every page is rendered with: the dependencies, the session (user, CSRF token) and the one-time flash. */
import type { GuiDeps } from './gui-deps.js';
import type { Flash, GuiSession } from './session-store.js';

export interface PageContext {
  deps: GuiDeps;
  session: GuiSession;
  flash: Flash | undefined;
  /** The request path, for the navigation bar. */
  path: string;
  /** The query string's values (search forms). */
  query: Record<string, string>;
}

/** The key that ties a flash's errors to one form: action id plus its target (`listener-edit:IncomingMail`). */
export function formKey(action: string, params: Record<string, string> = {}): string {
  const target = Object.values(params).join('/');
  return target === '' ? action : `${action}:${target}`;
}
