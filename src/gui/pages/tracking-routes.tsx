/**
 * Mail Logs & Message Tracking page and its API: tracking by MID, sender,
 * recipient and time (services/message-tracking.ts), the newest lines and a
 * regular-expression search of the mail logs (services/mail-log-search.ts).
 */
import type { Context, Hono } from 'hono';
import { UserError } from '../../core/errors.js';
import { compileSearch, grepMailLogs, tailMailLog } from '../../services/mail-log-search.js';
import { trackMessages, type TrackQuery } from '../../services/message-tracking.js';
import { describeFailure } from '../action.js';
import type { GuiEnv } from '../app.js';
import type { GuiDeps } from '../gui-deps.js';
import type { PageContext } from '../page-context.js';
import { parseWhen } from '../tool-input.js';
import { TrackingPage } from './tracking-page.js';

/** At most this many messages and log lines on a page or in one answer. */
const MAX_RESULTS = 500;

/** The tracking query of a form or API call; null when it names nothing to look for. */
export function trackQuery(q: Record<string, string>, now = Date.now()): TrackQuery | null {
  const query: TrackQuery = { limit: 200 };
  const mid = q['mid']?.trim();
  if (mid !== undefined && mid !== '') {
    if (!/^\d+$/.test(mid)) throw new UserError('MID must be a number');
    query.mid = Number(mid);
  }
  if (q['from'] !== undefined && q['from'].trim() !== '') query.from = q['from'].trim();
  if (q['to'] !== undefined && q['to'].trim() !== '') query.to = q['to'].trim();
  const since = parseWhen(q['since'], now);
  const until = parseWhen(q['until'], now);
  if (since !== undefined) query.since = since;
  if (until !== undefined) query.until = until;
  return Object.keys(query).length > 1 ? query : null;
}

/** The newest matching lines of every log generation (at most MAX_RESULTS). */
async function grepLines(root: string, pattern: string): Promise<{ lines: string[]; truncated: boolean }> {
  const re = compileSearch(pattern);
  const lines: string[] = [];
  let truncated = false;
  for await (const line of grepMailLogs(root, re)) {
    lines.push(line);
    if (lines.length > MAX_RESULTS) {
      lines.shift();
      truncated = true;
    }
  }
  return { lines, truncated };
}

export function registerTrackingRoutes(app: Hono<GuiEnv>, pageContext: (c: Context<GuiEnv>) => PageContext, deps: GuiDeps): void {
  const root = deps.home.layout.root;
  app.get('/tracking', async (c) => {
    const q = c.req.query();
    let error: string | undefined;
    let stories: Awaited<ReturnType<typeof trackMessages>> | undefined;
    let grep: { pattern: string; lines: string[]; truncated: boolean } | undefined;
    try {
      const query = trackQuery(q);
      if (query !== null) stories = await trackMessages(root, query);
      if (q['grep'] !== undefined && q['grep'] !== '') grep = { pattern: q['grep'], ...(await grepLines(root, q['grep'])) };
    } catch (err) {
      error = describeFailure(err, []).error;
    }
    return c.html(<TrackingPage ctx={pageContext(c)} stories={stories} grep={grep} tail={tailMailLog(root, 50)} error={error} />, error === undefined ? 200 : 400);
  });
  app.get('/api/tracking', async (c) => {
    try {
      const query = trackQuery(c.req.query());
      if (query === null) return c.json({ ok: false, error: 'give at least one of mid, from, to, since, until' }, 400);
      return c.json({ ok: true, messages: await trackMessages(root, query) });
    } catch (err) {
      return c.json({ ok: false, ...describeFailure(err, []) }, 400);
    }
  });
  app.get('/api/logs/tail', (c) => {
    const n = Number(c.req.query('n') ?? '100');
    return c.json({ ok: true, lines: tailMailLog(root, Number.isInteger(n) && n >= 0 && n <= 10_000 ? n : 100) });
  });
  app.get('/api/logs/grep', async (c) => {
    try {
      return c.json({ ok: true, ...(await grepLines(root, c.req.query('pattern') ?? '')) });
    } catch (err) {
      return c.json({ ok: false, ...describeFailure(err, []) }, 400);
    }
  });
}
