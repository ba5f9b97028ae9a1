/**
 * TLS Verify: runs `tlsverify` (one host, step by step) and `checktls` (every
 * MX, stages and confidence score) through services/tls-verify.ts and
 * services/check-tls.ts. Without script the form posts and the page shows
 * every step when the run ends; tlsverify.js streams the steps as they happen
 * from the API (`?stream=1`, one JSON line per step).
 */
import type { CheckTlsResult } from '../../services/check-tls.js';
import type { TlsVerifyResult } from '../../services/tls-verify.js';
import { Field, Section, Submit, Table } from '../components.js';
import { Layout } from '../layout.js';
import type { PageContext } from '../page-context.js';

export type ToolOutcome =
  | { kind: 'tlsverify'; result: TlsVerifyResult }
  | { kind: 'checktls'; result: CheckTlsResult }
  | { kind: 'error'; tool: 'tlsverify' | 'checktls'; error: string };

function ToolForm({ ctx, tool, children }: { ctx: PageContext; tool: string; children?: unknown }) {
  return (
    <form method="post" action={`/tlsverify/${tool}`} class="form tool-form" data-tool={tool} id={`${tool}-form`}>
      <input type="hidden" name="_csrf" value={ctx.session.csrfToken} />
      {children as never}
    </form>
  );
}

function Steps({ steps, id }: { steps: { status: string; text: string; elapsedMs: number }[]; id?: string }) {
  return (
    <ol class="steps" id={id}>
      {steps.map((s) => (
        <li class={`step-${s.status}`}>
          <span class="ms">{`${Math.round(s.elapsedMs)} ms`}</span> {s.text}
        </li>
      ))}
    </ol>
  );
}

export function TlsVerifyPage({ ctx, outcome, values = {} }: { ctx: PageContext; outcome?: ToolOutcome; values?: Record<string, string> }) {
  const f = { ctx, action: 'tool' };
  return (
    <Layout ctx={ctx} title="TLS Verify" scripts={['/static/tlsverify.js']}>
      <div class="columns">
        <Section title="tlsverify: one delivery, step by step">
          <ToolForm ctx={ctx} tool="tlsverify">
            <div class="grid">
              <Field {...f} name="domain" label="Domain" value={values['domain']} placeholder="example.com" required />
              <Field {...f} name="host" label="Host[:port] (optional)" value={values['host']} help="Blank: the SMTP route or MX of the domain" />
            </div>
            <Submit label="Run tlsverify" />
          </ToolForm>
        </Section>
        <Section title="checktls: every MX, with a confidence score">
          <ToolForm ctx={ctx} tool="checktls">
            <div class="grid">
              <Field {...f} name="domain" label="Domain" value={values['checkDomain']} placeholder="example.com" required />
              <Field {...f} name="assure" label="Assure: plaintext MAIL FROM must be refused" type="checkbox" value={values['assure'] === 'on'} />
            </div>
            <Submit label="Run checktls" />
          </ToolForm>
        </Section>
      </div>
      <Section title="Result" id="result">
        <div id="live-steps"></div>
        {outcome === undefined ? <p class="help" id="no-result">Run a check above.</p> : null}
        {outcome?.kind === 'error' ? <p class="flash flash-error" id="tool-error">{`${outcome.tool} failed: ${outcome.error}`}</p> : null}
        {outcome?.kind === 'tlsverify' ? (
          <div id="tlsverify-result">
            <p class={outcome.result.verified ? 'verdict ok' : 'verdict step-fail'} id="verdict">
              {outcome.result.verified ? `TLS verification completed for ${outcome.result.domain}.` : `TLS verification failed: ${outcome.result.reason ?? 'unknown'}`}
            </p>
            <Steps steps={outcome.result.steps} id="steps" />
          </div>
        ) : null}
        {outcome?.kind === 'checktls' ? (
          <div id="checktls-result">
            <p class="verdict" id="verdict">{`${outcome.result.domain}: confidence ${outcome.result.score} / 100`}</p>
            <Table
              head={['MX', 'Pref', 'Addresses', ...outcome.result.mx[0]?.stages.map((s) => s.stage) ?? [], 'Score', 'TLS', 'Failure']}
              rows={outcome.result.mx.map((m) => [
                m.host,
                String(m.preference),
                m.addresses.join(', ') || '—',
                ...m.stages.map((s) => <span class={`step-${s.status === 'pass' ? 'ok' : s.status === 'fail' ? 'fail' : 'info'}`}>{`${s.status}${s.ms === null ? '' : ` (${Math.round(s.ms)} ms)`}`}</span>),
                String(m.score),
                m.protocol ? `${m.protocol} ${m.cipher ?? ''}` : '—',
                m.failure ?? (m.assure ? (m.assure.refused ? 'plaintext refused' : `plaintext accepted: ${m.assure.detail}`) : ''),
              ])}
            />
            {outcome.result.mx.map((m) => (
              <details>
                <summary>{`Steps for ${m.host}`}</summary>
                <Steps steps={m.steps} />
              </details>
            ))}
          </div>
        ) : null}
      </Section>
    </Layout>
  );
}
