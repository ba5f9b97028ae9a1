/** Configuration: staged changes, Commit with comment, Clear, Rollback to a version, Save and Load a file, GUI settings, API tokens, password. */
import { listApiTokens } from '../../services/api-tokens.js';
import { SYSLOG_FACILITIES } from '../../config/syslog-settings.js';
import { listVersions, showChanges } from '../../services/config-lifecycle.js';
import { ActionForm, Details, Field, hasErrorsFor, Section, Submit, Table } from '../components.js';
import { Layout } from '../layout.js';
import type { PageContext } from '../page-context.js';

export function ConfigurationPage({ ctx }: { ctx: PageContext }) {
  const { home } = ctx.deps;
  const changes = showChanges(home);
  const { versions, current } = listVersions(home);
  const working = home.store.working();
  const tokens = listApiTokens(home.layout);
  const f = { ctx };
  return (
    <Layout ctx={ctx} title="Configuration">
      <Section title="Staged changes" id="changes">
        {changes.length === 0 ? (
          <p id="no-changes">No changes</p>
        ) : (
          <>
            <pre class="changes" id="changes-list">
              {changes.join('\n')}
            </pre>
            <ActionForm {...f} action="config-commit" id="commit-form">
              <Field {...f} action="config-commit" name="comment" label="Comment" placeholder="what and why" />
              <Submit label="Commit changes" />
            </ActionForm>
            <ActionForm {...f} action="config-clear" confirm="Drop every staged change?">
              <Submit label="Clear changes" danger />
            </ActionForm>
          </>
        )}
      </Section>
      <Section title="Versions">
        <Table
          head={['Version', 'Committed', 'User', 'Comment', '']}
          rows={[...versions].reverse().map((v) => [
            v.version === current ? <strong>{`${v.version} (committed)`}</strong> : String(v.version),
            v.committedAt,
            v.user,
            v.comment,
            v.version === current ? (
              ''
            ) : (
              <ActionForm {...f} action="config-rollback" params={{ version: String(v.version) }} inline>
                <Submit label="Roll back to this" />
              </ActionForm>
            ),
          ])}
        />
        <p class="help">Rolling back stages the whole old version (certificates included); review it above, then commit.</p>
      </Section>
      <Section title="Save and load">
        <div class="columns">
          <ActionForm {...f} action="config-save">
            <h3>Save the committed configuration</h3>
            <Field
              {...f}
              action="config-save"
              name="passwords"
              label="Secrets"
              options={[
                ['encrypt', 'encrypt: private keys as PKCS#12 under a passphrase'],
                ['mask', 'mask: leave out every secret'],
                ['plain', 'plain: private keys in clear text'],
              ]}
              value="encrypt"
            />
            <Field {...f} action="config-save" name="passphrase" label="Passphrase (encrypt)" type="password" />
            <Submit label="Save and download" />
          </ActionForm>
          <ActionForm {...f} action="config-load" multipart>
            <h3>Load a saved file (staged)</h3>
            <Field {...f} action="config-load" name="file" label="Configuration file (YAML)" type="file" required />
            <Field {...f} action="config-load" name="passphrase" label="Passphrase (if encrypted)" type="password" />
            <Submit label="Load" />
          </ActionForm>
        </div>
      </Section>
      <Section title="GUI" id="gui">
        <ActionForm {...f} action="gui-edit">
          <div class="grid">
            <Field {...f} action="gui-edit" name="address" label="Address" value={working.gui.address} />
            <Field {...f} action="gui-edit" name="port" label="Port" type="number" value={working.gui.port} />
            <Field {...f} action="gui-edit" name="certificate" label="Certificate" options={working.certificates.map((c) => c.name)} value={working.gui.certificate} />
            <Field {...f} action="gui-edit" name="idleTimeoutMinutes" label="Idle timeout (minutes)" type="number" value={working.gui.idleTimeoutMinutes} />
            <Field {...f} action="gui-edit" name="minVersion" label="Minimum TLS version" options={['TLSv1.2', 'TLSv1.3']} value={working.ssl.gui.minVersion} />
          </div>
          <Submit label="Save GUI settings" />
        </ActionForm>
      </Section>
      <Section title="Mail log to syslog" id="syslog">
        <p class="help">
          Every mail-log line is also sent to a remote syslog server (RFC 3164 form, e.g. <code>&lt;22&gt;Nov 29 08:05:03 host mail_logs: Info: ...</code>). Target{' '}
          <code>udp:HOST:PORT</code> or <code>tcp:HOST:PORT</code> with an IP address (IPv6 in brackets); empty or <code>off</code> turns it off. The local <code>/dev/log</code> socket is
          not supported.
        </p>
        <ActionForm {...f} action="logging-edit">
          <div class="grid">
            <Field {...f} action="logging-edit" name="syslogTarget" label="Target" value={working.logging.mailLog.syslog.target ?? 'off'} />
            <Field {...f} action="logging-edit" name="syslogFacility" label="Facility" options={[...SYSLOG_FACILITIES]} value={working.logging.mailLog.syslog.facility} />
            <Field {...f} action="logging-edit" name="syslogTag" label="Tag" value={working.logging.mailLog.syslog.tag} />
            <Field {...f} action="logging-edit" name="syslogQueueLines" label="Queue (lines)" type="number" value={working.logging.mailLog.syslog.queueLines} />
          </div>
          <Submit label="Save syslog settings" />
        </ActionForm>
      </Section>
      <Section title="API tokens" id="tokens">
        <p class="help">
          Scripts call <code>/api/</code> with <code>Authorization: Bearer &lt;token&gt;</code>. A token acts as the user who created it; only its hash is stored, so copy it when it is
          shown.
        </p>
        <Table
          head={['Name', 'User', 'Created', 'Last used', '']}
          rows={tokens.map((t) => [
            t.name,
            t.user,
            t.createdAt,
            t.lastUsedAt ?? 'never',
            <ActionForm {...f} action="token-revoke" params={{ name: t.name }} inline confirm={`Revoke API token ${t.name}?`}>
              <Submit label="Revoke" danger />
            </ActionForm>,
          ])}
          empty="No API tokens"
        />
        <ActionForm {...f} action="token-new" inline>
          <Field {...f} action="token-new" name="name" label="New token name" />
          <Submit label="Create token" />
        </ActionForm>
      </Section>
      <Section title="Your password">
        <Details summary={`Change the password of ${ctx.session.user}`} open={hasErrorsFor(ctx, 'password-change')}>
          <ActionForm {...f} action="password-change">
            <div class="grid">
              <Field {...f} action="password-change" name="password" label="New password" type="password" />
              <Field {...f} action="password-change" name="confirm" label="Repeat" type="password" />
            </div>
            <Submit label="Change password (staged)" />
          </ActionForm>
        </Details>
      </Section>
    </Layout>
  );
}
