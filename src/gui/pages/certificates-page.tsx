/** Certificates: profiles with status and time remaining, add self-signed, paste, import PKCS#12, trust lists. */
import { listProfiles, listTrustStore } from '../../services/certificates.js';
import { KEY_ALGORITHMS } from '../../tls/self-signed.js';
import { ActionForm, Details, Field, hasErrorsFor, Section, StatusBadge, Submit, Table } from '../components.js';
import { Layout } from '../layout.js';
import type { PageContext } from '../page-context.js';

export function CertificatesPage({ ctx }: { ctx: PageContext }) {
  const { profiles, warnings } = listProfiles(ctx.deps.home);
  const trust = listTrustStore(ctx.deps.home);
  const f = { ctx };
  return (
    <Layout ctx={ctx} title="Certificates">
      {warnings.length > 0 ? (
        <div class="flash flash-warning">
          {warnings.map((w) => (
            <div>{w}</div>
          ))}
        </div>
      ) : null}
      <Section title="Certificate profiles">
        <Table
          head={['Name', 'Common name', 'Issued by', 'Domains', 'Status', 'Time remaining', 'Expires', 'Used by', '']}
          rows={profiles.map((p) => [
            <a href={`/certificates/${encodeURIComponent(p.name)}`}>{p.name}</a>,
            p.commonName,
            p.issuedBy,
            p.domains.join(', '),
            <>
              <StatusBadge status={p.status} label={p.statusLabel} />
              {p.demo ? <StatusBadge status="demo" label="Demo" /> : null}
              {p.staged ? <StatusBadge status="staged" label="Staged" /> : null}
            </>,
            p.timeRemaining,
            p.expirationDate,
            p.usedBy.join(', ') || '—',
            <a href={`/certificates/${encodeURIComponent(p.name)}/csr`}>CSR</a>,
          ])}
        />
      </Section>
      <Section title="Add a self-signed certificate" id="add">
        <p class="help">A new key is created now; get it signed by a CA with the CSR on the profile's page, then upload the signed certificate there.</p>
        <ActionForm {...f} action="certificate-new">
          <div class="grid">
            <Field {...f} action="certificate-new" name="name" label="Profile name" required />
            <Field {...f} action="certificate-new" name="cn" label="Common name (CN)" placeholder="mail.example.com" required />
            <Field {...f} action="certificate-new" name="san" label="Other names (SAN)" help="Comma-separated DNS names or IPs; default: the CN" />
            <Field {...f} action="certificate-new" name="org" label="Organization (O)" />
            <Field {...f} action="certificate-new" name="ou" label="Unit (OU)" />
            <Field {...f} action="certificate-new" name="city" label="City (L)" />
            <Field {...f} action="certificate-new" name="state" label="State (ST)" />
            <Field {...f} action="certificate-new" name="country" label="Country (C)" help="2 letters" />
            <Field {...f} action="certificate-new" name="days" label="Days valid" type="number" value={365} />
            <Field {...f} action="certificate-new" name="key" label="Key type" options={KEY_ALGORITHMS} value="rsa2048" />
          </div>
          <Submit label="Create certificate" />
        </ActionForm>
      </Section>
      <Section title="Import">
        <Details summary="Import a PKCS#12 file (.p12 / .pfx)" open={hasErrorsFor(ctx, 'certificate-import')}>
          <ActionForm {...f} action="certificate-import" multipart>
            <div class="grid">
              <Field {...f} action="certificate-import" name="name" label="Profile name" required />
              <Field {...f} action="certificate-import" name="pkcs12" label="PKCS#12 file" type="file" required />
              <Field {...f} action="certificate-import" name="passphrase" label="Passphrase" type="password" />
            </div>
            <Submit label="Import" />
          </ActionForm>
        </Details>
        <Details summary="Paste a certificate with its private key (PEM files)" open={hasErrorsFor(ctx, 'certificate-paste')}>
          <ActionForm {...f} action="certificate-paste" multipart>
            <div class="grid">
              <Field {...f} action="certificate-paste" name="name" label="Profile name" required />
              <Field {...f} action="certificate-paste" name="certificate" label="Certificate (PEM)" type="file" required />
              <Field {...f} action="certificate-paste" name="privateKey" label="Private key (PEM, unencrypted)" type="file" required />
              <Field {...f} action="certificate-paste" name="intermediates" label="Intermediates (PEM, in order)" type="file" multiple />
            </div>
            <Submit label="Add" />
          </ActionForm>
        </Details>
      </Section>
      <Section title="Trust lists" id="trust">
        <p>
          Used to verify servers we deliver to and client certificates. System list: {trust.systemCount} CAs bundled with Node.js.
        </p>
        <div class="row">
          <ActionForm {...f} action="truststore-list" params={{ list: 'system' }} inline>
            <input type="hidden" name="enabled" value={trust.systemEnabled ? 'off' : 'on'} />
            System list is <strong>{trust.systemEnabled ? 'on' : 'off'}</strong> <Submit label={trust.systemEnabled ? 'Turn off' : 'Turn on'} />
          </ActionForm>
          <ActionForm {...f} action="truststore-list" params={{ list: 'custom' }} inline>
            <input type="hidden" name="enabled" value={trust.customEnabled ? 'off' : 'on'} />
            Custom list is <strong>{trust.customEnabled ? 'on' : 'off'}</strong> <Submit label={trust.customEnabled ? 'Turn off' : 'Turn on'} />
          </ActionForm>
        </div>
        <h3>Custom CAs</h3>
        <Table
          head={['Name', 'Subject', 'Status', 'Time remaining', 'Expires', '']}
          rows={trust.custom.map((ca) => [
            ca.name,
            ca.subject,
            <StatusBadge status={ca.status} label={ca.statusLabel} />,
            ca.timeRemaining,
            ca.expirationDate,
            <ActionForm {...f} action="truststore-delete" params={{ name: ca.name }} inline confirm={`Delete the custom CA ${ca.name}?`}>
              <Submit label="Delete" danger />
            </ActionForm>,
          ])}
          empty="No custom CAs"
        />
        <ActionForm {...f} action="truststore-import" multipart>
          <Field {...f} action="truststore-import" name="bundle" label="Import CA certificates (PEM bundle)" type="file" required />
          <Submit label="Import CAs" />
        </ActionForm>
      </Section>
    </Layout>
  );
}
