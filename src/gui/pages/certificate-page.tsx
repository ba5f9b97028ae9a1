/** One certificate profile: details and chain, lint findings, CSR, upload signed certificate, export PKCS#12, re-key, delete. */
import { describeProfile, lintProfile } from '../../services/certificates.js';
import { KEY_ALGORITHMS } from '../../tls/self-signed.js';
import { ActionForm, Details, Field, hasErrorsFor, Section, StatusBadge, Submit, Table } from '../components.js';
import { Layout } from '../layout.js';
import type { PageContext } from '../page-context.js';

export function CertificatePage({ ctx, name }: { ctx: PageContext; name: string }) {
  const p = describeProfile(ctx.deps.home, name);
  const findings = lintProfile(ctx.deps.home, name);
  const f = { ctx };
  const params = { name };
  return (
    <Layout ctx={ctx} title={`Certificate ${p.name}`}>
      <p>
        <a href="/certificates">← All certificates</a>
      </p>
      <Section title="Details">
        <dl class="props">
          <dt>Subject</dt>
          <dd>{p.subject}</dd>
          <dt>Issuer</dt>
          <dd>{p.issuer}</dd>
          <dt>Names</dt>
          <dd>{p.subjectAltNames.join(', ') || p.commonName}</dd>
          <dt>Status</dt>
          <dd>
            <StatusBadge status={p.status} label={p.statusLabel} /> {p.timeRemaining}
          </dd>
          <dt>Valid</dt>
          <dd>
            {p.validFrom} — {p.expirationDate}
          </dd>
          <dt>Key</dt>
          <dd>{p.key}</dd>
          <dt>Signature</dt>
          <dd>{p.signatureAlgorithm}</dd>
          <dt>Serial</dt>
          <dd>{p.serial}</dd>
          <dt>SHA-256</dt>
          <dd class="mono">{p.fingerprint256}</dd>
          <dt>Source</dt>
          <dd>{p.source}</dd>
          <dt>Used by</dt>
          <dd>{p.usedBy.join(', ') || 'nothing'}</dd>
        </dl>
        <h3>Chain as served</h3>
        <Table
          head={['Subject', 'Issuer', 'Expires', 'Status']}
          rows={p.chain.map((e) => [e.subject, e.issuer, e.expirationDate, <StatusBadge status={e.status} label={e.status} />])}
          empty="No intermediates"
        />
      </Section>
      <Section title="Lint findings" id="lint">
        {findings.length === 0 ? (
          <p class="ok">No findings.</p>
        ) : (
          <Table head={['Severity', 'Finding', 'Detail']} rows={findings.map((x) => [<StatusBadge status={x.severity} label={x.severity} />, x.code, x.message])} />
        )}
      </Section>
      <Section title="Get it signed by a CA">
        <p>
          1. <a href={`/certificates/${encodeURIComponent(name)}/csr`} id="csr-download">Download the certificate signing request (CSR)</a> and send it to your CA.
        </p>
        <p>2. Upload the signed certificate (and the CA's intermediates, in order):</p>
        <ActionForm {...f} action="certificate-upload" params={params} multipart>
          <div class="grid">
            <Field {...f} action="certificate-upload" params={params} name="certificate" label="Signed certificate (PEM)" type="file" required />
            <Field {...f} action="certificate-upload" params={params} name="intermediates" label="Intermediates (PEM)" type="file" multiple />
          </div>
          <Submit label="Upload" />
        </ActionForm>
      </Section>
      <Section title="Export and other actions">
        <Details summary="Export as PKCS#12 (with the private key)" open={hasErrorsFor(ctx, 'certificate-export', params)}>
          <ActionForm {...f} action="certificate-export" params={params}>
            <Field {...f} action="certificate-export" params={params} name="passphrase" label="Passphrase" type="password" required />
            <Submit label="Download .p12" />
          </ActionForm>
        </Details>
        <Details summary="Re-key (new key and self-signed certificate)" open={hasErrorsFor(ctx, 'certificate-rekey', params)}>
          <ActionForm {...f} action="certificate-rekey" params={params} confirm="Replace the key? The current certificate stops working at commit.">
            <div class="grid">
              <Field {...f} action="certificate-rekey" params={params} name="key" label="Key type" options={KEY_ALGORITHMS} value="rsa2048" />
              <Field {...f} action="certificate-rekey" params={params} name="days" label="Days valid" type="number" value={365} />
            </div>
            <Submit label="Re-key" />
          </ActionForm>
        </Details>
        <ActionForm {...f} action="certificate-delete" params={params} confirm={`Delete certificate profile ${name}?`}>
          <Submit label="Delete profile" danger />
        </ActionForm>
      </Section>
    </Layout>
  );
}
