/**
 * `gatehouse certconfig`: certificate profiles, PKCS#12, chain lint and the
 * trust store (SPEC §6, §12). Thin over services/certificates.ts: this file
 * reads files (bounded), parses flags and prints. Changes are staged until
 * `commit`. Nothing printed here contains private key material.
 */
import fs from 'node:fs';
import { Argument, Option, type Command } from 'commander';
import { writeFileAtomicSync } from '../../core/atomic-file.js';
import { UserError } from '../../core/errors.js';
import type { CertificateChangeResult } from '../../services/certificates.js';
import { openHome, type Home } from '../../services/staging.js';
import type { KeyAlgorithm } from '../../tls/self-signed.js';
import { globalOptions } from '../global-options.js';
import { examples, parseInteger, parseList } from '../option-parsers.js';
import { printJson, printLines } from '../output.js';
import { cliUser } from '../staged-edit.js';
import { formatTable } from '../text-table.js';

const FILE_MAX_BYTES = 1024 * 1024;
/** As in tls/pkcs12.ts (PKCS12_MAX_BYTES). */
const PKCS12_MAX_BYTES = 1024 * 1024;
const KEY_TYPES = ['rsa2048', 'rsa3072', 'rsa4096', 'ec-p256', 'ec-p384'] as const satisfies readonly KeyAlgorithm[];

/** The certificate services and chain lint, loaded when a certconfig command runs (they pull in the X.509 and ASN.1 libraries). */
const services = () => import('../../services/certificates.js');
const lint = () => import('../../tls/chain-lint.js');

/** Reads an input file, refusing a missing file (appliance wording) or one over `max` bytes before reading it. */
function readInputFile(file: string, max = FILE_MAX_BYTES): Buffer {
  let size: number;
  try {
    const st = fs.statSync(file);
    if (!st.isFile()) throw new UserError(`"${file}" is not a file`);
    size = st.size;
  } catch (err) {
    if (err instanceof UserError) throw err;
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new UserError(`the file "${file}" does not exist.`);
    throw new UserError(`cannot read the file "${file}": ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  if (size > max) throw new UserError(`the file "${file}" is larger than ${max / 1024 / 1024} MiB`);
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw new UserError(`cannot read the file "${file}": ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

/** A passphrase file: UTF-8, one trailing newline stripped. Empty is allowed only when `allowEmpty` (PKCS#12 import). */
function readPassphrase(file: string, allowEmpty: boolean): string {
  const text = readInputFile(file, 64 * 1024).toString('utf8').replace(/^\uFEFF/, '');
  const passphrase = text.replace(/\r?\n$/, '');
  if (passphrase === '' && !allowEmpty) throw new UserError(`the passphrase file ${file} is empty; an empty passphrase is not allowed`);
  return passphrase;
}

function session(cmd: Command): { home: Home; json: boolean } {
  const { home, json } = globalOptions(cmd);
  return { home: openHome(home), json };
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Prints a staged change: the sentence, then lint warnings and configuration warnings; or JSON. */
function printChange(json: boolean, result: CertificateChangeResult): void {
  if (json) {
    printJson({ staged: true, message: result.message, warnings: result.warnings, findings: result.findings });
    return;
  }
  printLines(`${result.message} (staged; "gatehouse commit" applies it).`, ...result.warnings.map((w) => (/^(warning|error) [a-z-]+: /.test(w) ? w : `Warning: ${w}`)));
}

function registerProfiles(cc: Command): void {
  cc.command('new')
    .description('Create a certificate profile with a new key and a self-signed certificate (then csr and upload for a CA-signed one).')
    .requiredOption('--name <name>', 'profile name (letters, digits, _ . or -)')
    .requiredOption('--cn <cn>', 'common name, e.g. mail.example.com')
    .option('--org <org>', 'organization (O)')
    .option('--ou <ou>', 'organizational unit (OU)')
    .option('--city <city>', 'locality or city (L)')
    .option('--state <state>', 'state or province (ST)')
    .option('--country <cc>', 'country: 2-letter ISO code (C)')
    .option('--days <d>', 'days before expiration (default 365)', parseInteger)
    .addOption(new Option('--key <type>', 'key type (default rsa2048)').choices([...KEY_TYPES]))
    .option('--san <names>', 'subjectAltName DNS names or IPs, comma-separated (default: the CN)', parseList)
    .addHelpText('after', examples('gatehouse certconfig new --name mx --cn mx.example.com --org "Example Ltd" --country GB --key ec-p256'))
    .action(
      async (
        opts: { name: string; cn: string; org?: string; ou?: string; city?: string; state?: string; country?: string; days?: number; key?: KeyAlgorithm; san?: string[] },
        cmd: Command,
      ) => {
        const { home, json } = session(cmd);
        const svc = await services();
        const result = await svc.createProfile(home, cliUser(), {
          name: opts.name,
          subject: { cn: opts.cn, org: opts.org, ou: opts.ou, city: opts.city, state: opts.state, country: opts.country, san: opts.san },
          days: opts.days,
          key: opts.key,
        });
        printChange(json, result);
      },
    );

  cc.command('csr')
    .description("Print a certificate signing request (PEM) from the profile's key and subject.")
    .argument('<name>', 'certificate profile')
    .option('-o, --output <file>', 'write the CSR to this file instead of standard output')
    .addHelpText('after', examples('gatehouse certconfig csr mx -o mx.csr'))
    .action(async (name: string, opts: { output?: string }, cmd: Command) => {
      const { home, json } = session(cmd);
      const svc = await services();
      const csr = await svc.profileCsr(home, name);
      if (opts.output !== undefined) {
        writeFileAtomicSync(opts.output, csr, 0o644);
        if (json) printJson({ profile: name, file: opts.output });
        else printLines(`Wrote the CSR for profile ${name} to ${opts.output}.`);
      } else if (json) printJson({ profile: name, csr });
      else process.stdout.write(csr);
    });

  cc.command('upload')
    .description('Install the CA-signed certificate (and intermediates, in order) into a profile; its key must match.')
    .argument('<name>', 'certificate profile')
    .requiredOption('--cert <file>', 'the signed certificate (PEM or DER; further PEM certificates in it count as intermediates)')
    .option('--intermediate <file>', 'an intermediate certificate file, issuer of the previous one (repeat in order)', collect, [])
    .addHelpText('after', examples('gatehouse certconfig upload mx --cert mx.crt --intermediate ca-intermediate.pem'))
    .action(async (name: string, opts: { cert: string; intermediate: string[] }, cmd: Command) => {
      const { home, json } = session(cmd);
      const svc = await services();
      const result = await svc.uploadCertificate(home, cliUser(), name, {
        certificate: readInputFile(opts.cert),
        intermediates: opts.intermediate.map((f) => readInputFile(f)),
      });
      printChange(json, result);
    });

  cc.command('paste')
    .description('Create (or replace) a profile from a certificate, its private key and intermediates.')
    .requiredOption('--name <name>', 'profile name')
    .requiredOption('--cert <file>', 'the certificate (PEM)')
    .requiredOption('--key <file>', 'its private key (PEM, unencrypted)')
    .option('--intermediate <file>', 'an intermediate certificate file (repeat in order)', collect, [])
    .addHelpText('after', examples('gatehouse certconfig paste --name mx --cert mx.crt --key mx.key --intermediate intermediate.pem'))
    .action(async (opts: { name: string; cert: string; key: string; intermediate: string[] }, cmd: Command) => {
      const { home, json } = session(cmd);
      const svc = await services();
      const result = await svc.pasteProfile(home, cliUser(), {
        name: opts.name,
        certificate: readInputFile(opts.cert),
        privateKey: readInputFile(opts.key),
        intermediates: opts.intermediate.map((f) => readInputFile(f)),
      });
      printChange(json, result);
    });

  cc.command('import')
    .description('Create (or replace) a profile from a PKCS#12 file (OpenSSL 3 AES or legacy 3DES/RC2).')
    .requiredOption('--name <name>', 'profile name')
    .requiredOption('--file <file>', 'the PKCS#12 (.p12/.pfx) file')
    .requiredOption('--passphrase-file <file>', 'file holding the passphrase (one trailing newline ignored)')
    .addHelpText('after', examples('gatehouse certconfig import --name mx --file mx.p12 --passphrase-file pass.txt'))
    .action(async (opts: { name: string; file: string; passphraseFile: string }, cmd: Command) => {
      const { home, json } = session(cmd);
      const svc = await services();
      const passphrase = readPassphrase(opts.passphraseFile, true);
      const result = await svc.importProfile(home, cliUser(), { name: opts.name, pkcs12: readInputFile(opts.file, PKCS12_MAX_BYTES), passphrase });
      printChange(json, result);
    });

  cc.command('export')
    .description('Write a profile (key, certificate, chain) as a PKCS#12 file that OpenSSL 3 reads (AES-256, SHA-256 MAC).')
    .argument('<name>', 'certificate profile')
    .requiredOption('--file <file>', 'the PKCS#12 file to write (mode 0600)')
    .requiredOption('--passphrase-file <file>', 'file holding the passphrase (one trailing newline ignored; not empty)')
    .addHelpText('after', examples('gatehouse certconfig export mx --file mx.p12 --passphrase-file pass.txt'))
    .action(async (name: string, opts: { file: string; passphraseFile: string }, cmd: Command) => {
      const { home, json } = session(cmd);
      const svc = await services();
      const passphrase = readPassphrase(opts.passphraseFile, false);
      const der = await svc.exportProfile(home, cliUser(), name, passphrase);
      writeFileAtomicSync(opts.file, der, 0o600);
      if (json) printJson({ profile: name, file: opts.file });
      else printLines(`Exported profile ${name} to ${opts.file} (PKCS#12, AES-256-CBC, SHA-256 MAC).`);
    });

  cc.command('list')
    .description('List the certificate profiles (from the staged configuration when changes are staged).')
    .addHelpText('after', examples('gatehouse certconfig list', 'gatehouse certconfig list --json'))
    .action(async (_opts: unknown, cmd: Command) => {
      const { home, json } = session(cmd);
      const svc = await services();
      const { profiles, warnings } = svc.listProfiles(home);
      if (json) {
        printJson(profiles);
        for (const w of warnings) process.stderr.write(`Warning: ${w}\n`);
        return;
      }
      const lines =
        profiles.length === 0
          ? ['No certificate profiles.']
          : formatTable(
              ['Name', 'Common Name', 'Issued By', 'Domains', 'Status', 'Time Remaining', 'Expiration Date', 'Used by'],
              profiles.map((p) => [
                p.name,
                p.commonName || '-',
                p.issuedBy,
                p.domains.join(', ') || '-',
                p.statusLabel,
                p.timeRemaining,
                p.expirationDate,
                p.usedBy.join(', ') || '-',
              ]),
            );
      printLines(...lines, ...warnings.map((w) => `Warning: ${w}`));
    });

  cc.command('print')
    .description('Show one profile: subject, issuer, serial, validity, SANs, key, signature, chain, users and SHA-256 fingerprint.')
    .argument('<name>', 'certificate profile')
    .option('--pem', 'print the certificate and chain as PEM (never the key)')
    .addHelpText('after', examples('gatehouse certconfig print mx', 'gatehouse certconfig print mx --pem > mx-chain.pem'))
    .action(async (name: string, opts: { pem?: boolean }, cmd: Command) => {
      const { home, json } = session(cmd);
      const svc = await services();
      const d = svc.describeProfile(home, name);
      if (json) return printJson(d);
      if (opts.pem === true) {
        process.stdout.write(d.pem);
        return;
      }
      printLines(
        `Name: ${d.name}`,
        `Source: ${d.source}${d.demo ? ' (demo certificate: not for production use)' : ''}`,
        `Subject: ${d.subject}`,
        `Issuer: ${d.issuer}`,
        `Serial Number: ${d.serial}`,
        `Not Before: ${d.validFrom}`,
        `Not After: ${d.expirationDate}`,
        `Status: ${d.statusLabel} (${d.timeRemaining}${d.status === 'expired' ? '' : ' remaining'})`,
        `Subject Alternative Names: ${d.subjectAltNames.join(', ') || '(none)'}`,
        `Key: ${d.key}`,
        `Signature Algorithm: ${d.signatureAlgorithm}`,
        `Chain: ${d.chain.length === 0 ? '(none)' : ''}`.trimEnd(),
        ...d.chain.map((c, i) => `  ${i + 1}. ${c.subject} (issued by ${c.issuer}; expires ${c.expirationDate})`),
        `Used by: ${d.usedBy.join(', ') || '(nothing)'}`,
        `SHA-256 Fingerprint: ${d.fingerprint256}`,
      );
    });

  cc.command('delete')
    .description('Delete a profile (refused while a listener, the GUI or outbound delivery uses it).')
    .argument('<name>', 'certificate profile')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const { home, json } = session(cmd);
      const svc = await services();
      printChange(json, svc.deleteProfile(home, cliUser(), name));
    });

  cc.command('lint')
    .description('Check a profile: key match, chain order, duplicates, missing intermediates, roots, validity, key strength, SHA-1, names. Exit 1 on errors.')
    .argument('<name>', 'certificate profile')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const { home, json } = session(cmd);
      const svc = await services();
      const findings = svc.lintProfile(home, name);
      const { formatFinding } = await lint();
      const errors = findings.filter((f) => f.severity === 'error').length;
      const warnings = findings.length - errors;
      if (json) printJson({ profile: name, errors, warnings, findings });
      else if (findings.length === 0) printLines(`Profile ${name}: no findings.`);
      else printLines(...findings.map(formatFinding), `Profile ${name}: ${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}.`);
      if (errors > 0) process.exitCode = 1;
    });

  cc.command('rekey')
    .description('Stage a new key and a self-signed certificate for a profile (the old one serves until commit); then csr and upload.')
    .argument('<name>', 'certificate profile')
    .addOption(new Option('--key <type>', 'key type (default: the current one)').choices([...KEY_TYPES]))
    .option('--days <d>', 'days before the self-signed certificate expires (default 365)', parseInteger)
    .action(async (name: string, opts: { key?: KeyAlgorithm; days?: number }, cmd: Command) => {
      const { home, json } = session(cmd);
      const svc = await services();
      printChange(json, await svc.rekeyProfile(home, cliUser(), name, { key: opts.key, days: opts.days }));
    });
}

function registerTrustStore(cc: Command): void {
  const ca = cc.command('ca').description('The trust store: the system list (Node\'s bundled roots) and the custom list.');
  ca.command('list')
    .description('Show whether each list is enabled, and the custom CAs.')
    .action(async (_opts: unknown, cmd: Command) => {
      const { home, json } = session(cmd);
      const svc = await services();
      const t = svc.listTrustStore(home);
      if (json) return printJson(t);
      printLines(
        `System list: ${t.systemEnabled ? 'enabled' : 'disabled'} (${t.systemCount} certificates)`,
        `Custom list: ${t.customEnabled ? 'enabled' : 'disabled'} (${t.custom.length} certificate${t.custom.length === 1 ? '' : 's'})`,
      );
      if (t.custom.length > 0) {
        printLines(
          '',
          ...formatTable(
            ['Name', 'Subject', 'Status', 'Time Remaining', 'Expiration Date'],
            t.custom.map((c) => [c.name, c.subject, c.statusLabel, c.timeRemaining, c.expirationDate]),
          ),
        );
      }
    });
  ca.command('import')
    .description('Add the CA certificates of a PEM bundle to the custom list (each a CA, unexpired, new, its root present).')
    .argument('<file>', 'PEM bundle')
    .action(async (file: string, _opts: unknown, cmd: Command) => {
      const { home, json } = session(cmd);
      const svc = await services();
      printChange(json, svc.importCustomCas(home, cliUser(), readInputFile(file)));
    });
  ca.command('export')
    .description('Write the custom list as one PEM bundle.')
    .option('-o, --output <file>', 'write to this file instead of standard output')
    .action(async (opts: { output?: string }, cmd: Command) => {
      const { home, json } = session(cmd);
      const svc = await services();
      const pem = svc.exportCustomCas(home);
      if (opts.output !== undefined) {
        writeFileAtomicSync(opts.output, pem, 0o644);
        if (json) printJson({ file: opts.output });
        else printLines(`Wrote the custom CA list to ${opts.output}.`);
      } else if (json) printJson({ pem });
      else process.stdout.write(pem);
    });
  ca.command('delete')
    .description('Remove a CA from the custom list.')
    .argument('<name>', 'custom CA name (see certconfig ca list)')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const { home, json } = session(cmd);
      const svc = await services();
      printChange(json, svc.deleteCustomCa(home, cliUser(), name));
    });
  for (const action of ['enable', 'disable'] as const) {
    ca.command(action)
      .description(`${action === 'enable' ? 'Enable' : 'Disable'} the system or the custom CA list for verification.`)
      .addArgument(new Argument('<list>', 'system or custom').choices(['system', 'custom']))
      .action(async (list: 'system' | 'custom', _opts: unknown, cmd: Command) => {
        const { home, json } = session(cmd);
        const svc = await services();
        printChange(json, svc.setTrustList(home, cliUser(), list, action === 'enable'));
      });
  }
}

export function registerCertconfig(program: Command): void {
  const cc = program.command('certconfig').description('Certificate profiles, PKCS#12, chain lint and the trust store (SPEC §6).');
  registerProfiles(cc);
  registerTrustStore(cc);
}
