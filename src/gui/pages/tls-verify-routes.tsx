/**
 * TLS Verify page and /api/tools: `tlsverify` and `checktls` through
 * services/tls-verify.ts and services/check-tls.ts. The page posts a form and
 * shows the steps when the run ends; with script, tlsverify.js calls the API
 * with `?stream=1` and shows each step as it happens. Each run is audited.
 */
import type { Context, Hono } from 'hono';
import { stream } from 'hono/streaming';
import { z } from 'zod';
import { UserError } from '../../core/errors.js';
import { appendAudit } from '../../services/audit-log.js';
import { runCheckTls } from '../../services/check-tls.js';
import { runTlsVerify } from '../../services/tls-verify.js';
import { parseHostPort } from '../../smtp/outbound/next-hops.js';
import { describeFailure } from '../action.js';
import type { GuiEnv } from '../app.js';
import type { GuiDeps } from '../gui-deps.js';
import { bool, name } from '../input.js';
import type { PageContext } from '../page-context.js';
import { TlsVerifyPage, type ToolOutcome } from './tls-verify-page.js';

const tlsVerifyInput = z.object({ domain: name('domain'), host: z.string().optional(), port: z.coerce.number().int().min(1).max(65535).optional() });
const checkTlsInput = z.object({ domain: name('domain'), assure: bool().optional() });

function tlsVerifyTarget(i: z.infer<typeof tlsVerifyInput>): { domain: string; host?: string; port?: number } {
  if (i.host === undefined || i.host.trim() === '') return { domain: i.domain, ...(i.port !== undefined ? { port: i.port } : {}) };
  const hp = parseHostPort(i.host.trim());
  if (hp.host === '') throw new UserError(`host "${i.host}" is empty`);
  return { domain: i.domain, host: hp.host, port: i.port ?? hp.port };
}

function tlsVerifyAudit(input: { domain: string; host?: string; port?: number }): string {
  return `tlsverify ${input.domain}${input.host ? ` ${input.host}:${input.port ?? 25}` : ''}`;
}

const last = (v: string | File | (string | File)[] | undefined): string | undefined => {
  const x = Array.isArray(v) ? v[v.length - 1] : v;
  return typeof x === 'string' ? x : undefined;
};

export function registerTlsVerifyRoutes(app: Hono<GuiEnv>, pageContext: (c: Context<GuiEnv>) => PageContext, deps: GuiDeps): void {
  const audit = (c: Context<GuiEnv>, action: string): void => appendAudit(deps.home.layout, { user: c.get('user'), action });

  app.get('/tlsverify', (c) => c.html(<TlsVerifyPage ctx={pageContext(c)} />));
  app.post('/tlsverify/tlsverify', async (c) => {
    const body = await c.req.parseBody({ all: true });
    const values = { domain: last(body['domain']) ?? '', host: last(body['host']) ?? '' };
    let outcome: ToolOutcome;
    try {
      const input = tlsVerifyTarget(tlsVerifyInput.parse(values));
      audit(c, tlsVerifyAudit(input));
      outcome = { kind: 'tlsverify', result: await runTlsVerify(deps.home, input) };
    } catch (err) {
      outcome = { kind: 'error', tool: 'tlsverify', error: describeFailure(err, []).error };
    }
    return c.html(<TlsVerifyPage ctx={pageContext(c)} outcome={outcome} values={values} />);
  });
  app.post('/tlsverify/checktls', async (c) => {
    const body = await c.req.parseBody({ all: true });
    const values = { checkDomain: last(body['domain']) ?? '', assure: last(body['assure']) ?? '' };
    let outcome: ToolOutcome;
    try {
      const input = checkTlsInput.parse({ domain: values.checkDomain, assure: values.assure || undefined });
      audit(c, `checktls ${input.domain}${input.assure ? ' --assure' : ''}`);
      outcome = { kind: 'checktls', result: await runCheckTls(deps.home, { domain: input.domain, assure: input.assure === true }) };
    } catch (err) {
      outcome = { kind: 'error', tool: 'checktls', error: describeFailure(err, []).error };
    }
    return c.html(<TlsVerifyPage ctx={pageContext(c)} outcome={outcome} values={values} />);
  });

  /** JSON; with `?stream=1` one JSON line per step, then `{"ok": true, "result": ...}` (what tlsverify.js reads). */
  const toolApi = async <T,>(c: Context<GuiEnv>, run: (onStep: (step: unknown) => void) => Promise<T>) => {
    if (c.req.query('stream') !== '1') {
      try {
        return c.json({ ok: true, result: await run(() => {}) });
      } catch (err) {
        return c.json({ ok: false, ...describeFailure(err, ['domain', 'host', 'port', 'assure']) }, 400);
      }
    }
    c.header('Content-Type', 'application/x-ndjson; charset=utf-8');
    return stream(c, async (s) => {
      try {
        const result = await run((step) => void s.write(`${JSON.stringify({ step })}\n`));
        await s.write(`${JSON.stringify({ ok: true, result })}\n`);
      } catch (err) {
        await s.write(`${JSON.stringify({ ok: false, error: describeFailure(err, []).error })}\n`);
      }
    });
  };
  const jsonBody = async (c: Context<GuiEnv>): Promise<unknown> => {
    try {
      return await c.req.json();
    } catch {
      return undefined;
    }
  };
  app.post('/api/tools/tlsverify', async (c) => {
    const body = await jsonBody(c);
    if (body === undefined) return c.json({ ok: false, error: 'the body is not valid JSON' }, 400);
    return toolApi(c, async (onStep) => {
      const input = tlsVerifyTarget(tlsVerifyInput.parse(body));
      audit(c, tlsVerifyAudit(input));
      return runTlsVerify(deps.home, input, { onStep });
    });
  });
  app.post('/api/tools/checktls', async (c) => {
    const body = await jsonBody(c);
    if (body === undefined) return c.json({ ok: false, error: 'the body is not valid JSON' }, 400);
    return toolApi(c, async (onStep) => {
      const input = checkTlsInput.parse(body);
      audit(c, `checktls ${input.domain}${input.assure ? ' --assure' : ''}`);
      return runCheckTls(deps.home, { domain: input.domain, assure: input.assure === true }, { onStep });
    });
  });
}
