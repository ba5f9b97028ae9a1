/**
 * The TLS Connections report: inbound and outbound, required/preferred ×
 * success/failure and plaintext per hour (uPlot charts drawn by report.js
 * from the JSON embedded in the page: a data block, not a script, so the CSP
 * holds), and the per-domain tables.
 */
import { raw } from 'hono/html';
import type { TlsDirectionReport, TlsReport } from '../../services/tls-report.js';
import { Section, Table } from '../components.js';
import { Layout } from '../layout.js';
import type { PageContext } from '../page-context.js';

const share = (v: number | null): string => (v === null ? '—' : `${(v * 100).toFixed(1)} %`);

function DomainTable({ d }: { d: TlsDirectionReport }) {
  return (
    <Table
      head={['Domain', 'Connections', 'Required OK', 'Required failed', 'Preferred OK', 'Preferred failed', 'Plaintext', 'Verified', 'Messages', 'Encrypted share']}
      rows={d.domains.map((r) => [
        r.domain,
        String(r.connections),
        String(r.requiredSuccess),
        String(r.requiredFailure),
        String(r.preferredSuccess),
        String(r.preferredFailure),
        String(r.plaintext),
        String(r.verified),
        String(r.messages),
        share(r.encryptedShare),
      ])}
      empty="No connections in this window."
    />
  );
}

export function ReportPage({ ctx, window, report, error }: { ctx: PageContext; window: string; report?: TlsReport; error?: string }) {
  return (
    <Layout ctx={ctx} title="TLS Connections report" scripts={['/static/uplot.js', '/static/report.js']} styles={['/static/uplot.css']}>
      <form method="get" action="/report" class="form inline">
        <div class="field">
          <label for="since">Window</label>
          <select id="since" name="since">
            {['1h', '6h', '24h', '7d', '30d', '90d'].map((w) => (
              <option value={w} selected={w === window}>{`last ${w}`}</option>
            ))}
          </select>
        </div>
        <button type="submit">Show</button>
      </form>
      {error ? <div class="flash flash-error">{error}</div> : null}
      {report === undefined ? null : (
        <>
          <script type="application/json" id="report-data">
            {raw(JSON.stringify({ inbound: report.inbound.series, outbound: report.outbound.series }).replace(/</g, '\\u003c'))}
          </script>
          <p class="help">{`From ${report.since} to ${report.until}, per hour (UTC).`}</p>
          <Section title="Totals">
            <Table
              head={['Direction', 'Connections', 'Required OK', 'Required failed', 'Preferred OK', 'Preferred failed', 'Plaintext', 'Messages', 'Encrypted share']}
              rows={(['inbound', 'outbound'] as const).map((dir) => {
                const t = report[dir].totals;
                return [dir, String(t.connections), String(t.requiredSuccess), String(t.requiredFailure), String(t.preferredSuccess), String(t.preferredFailure), String(t.plaintext), String(t.messages), share(report[dir].encryptedShare)];
              })}
            />
          </Section>
          <div class="charts">
            <Section title="Inbound connections per hour">
              <div class="chart" id="chart-inbound"></div>
            </Section>
            <Section title="Outbound connections per hour">
              <div class="chart" id="chart-outbound"></div>
            </Section>
          </div>
          <Section title="Inbound by domain">
            <DomainTable d={report.inbound} />
          </Section>
          <Section title="Outbound by domain">
            <DomainTable d={report.outbound} />
          </Section>
        </>
      )}
    </Layout>
  );
}
