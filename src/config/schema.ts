/**
 * The one configuration schema. Every default lives here; everything else reads
 * a validated `Config`. Names follow the appliance (listener, sender group,
 * mail flow policy, destination control) and SPEC §2–§6.
 */
import net from 'node:net';
import { z } from 'zod';
import { INBOUND_TLS_LEVELS, OUTBOUND_TLS_LEVELS, TLS_VERSIONS } from '../core/tls-levels.js';
import { SYSLOG_FACILITIES, SYSLOG_TAG_RE, SYSLOG_TAG_RULE, syslogTargetProblem } from './syslog-settings.js';

export const CONFIG_SCHEMA_VERSION = 1;

/**
 * Why a `schemaVersion` is refused, naming the version found and the one this
 * release reads: a newer one means a newer Gatehouse wrote the file.
 */
export function schemaVersionProblem(found: unknown): string {
  if (typeof found === 'number' && Number.isInteger(found) && found > CONFIG_SCHEMA_VERSION) {
    return `was written by a newer Gatehouse (configuration schema version ${found}); this one reads version ${CONFIG_SCHEMA_VERSION}`;
  }
  return `must be ${CONFIG_SCHEMA_VERSION} (found ${JSON.stringify(found)}); this Gatehouse reads configuration schema version ${CONFIG_SCHEMA_VERSION}`;
}
const MiB = 1024 * 1024;

const port = z.number({ error: 'must be a number 1-65535' }).int('must be a whole number').min(1, 'must be 1-65535').max(65535, 'must be 1-65535');
const positiveInt = z.number().int('must be a whole number').positive('must be greater than 0');
const seconds = z.number().positive('must be greater than 0');
/** Group and policy names: upper case, no `$` (the CLI strips a leading `$`). */
const tableName = z.string().regex(/^[A-Z0-9][A-Z0-9_-]{0,63}$/, 'must be upper case letters, digits, _ or - (at most 64)');
const profileName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'must be letters, digits, _ . or - (at most 64)');
const hostname = z.string().regex(/^(?=.{1,253}$)([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?)*$/, 'must be a host name');
const ipAddress = z.string().refine((s) => net.isIP(s) !== 0, 'must be an IPv4 or IPv6 address');
const ipv4Address = z.string().refine((s) => net.isIPv4(s), 'must be an IPv4 address (a.b.c.d)');
const ipv6Address = z.string().refine((s) => net.isIPv6(s), 'must be an IPv6 address');
const hostPort = z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+)(:\d{1,5})?$/, 'must be HOST or HOST:PORT');

export const mailFlowPolicySchema = z
  .object({
    name: tableName,
    behavior: z.enum(['accept', 'relay', 'reject', 'tcprefuse']).default('accept'),
    maxMessageSize: positiveInt.default(20 * MiB),
    maxRecipientsPerMessage: positiveInt.default(1000),
    maxMessagesPerConnection: positiveInt.default(1000),
    maxConnectionsPerIp: positiveInt.default(50),
    /** null: unlimited. */
    maxRecipientsPerHour: positiveInt.nullable().default(null),
    tls: z.enum(INBOUND_TLS_LEVELS).default('preferred'),
    verifyClientCertificate: z.boolean().default(false),
    /** Senders (`a@b`, `@domain`, `.domain` for subdomains) that must use TLS when tls is preferred. */
    tlsMandatoryAddressList: z.array(z.string().min(1)).default([]),
    smtpAuth: z.literal('off').default('off'),
    requireTlsForAuth: z.boolean().default(true),
    comment: z.string().default(''),
  })
  .strict();
export type MailFlowPolicy = z.infer<typeof mailFlowPolicySchema>;

export const senderGroupSchema = z
  .object({
    name: tableName,
    policy: tableName,
    /** IP, CIDR, range `a.b.c.d-e.f.g.h`, host name, `.domain`, `sbrs[a:b]`, `ALL`. */
    members: z.array(z.string().min(1)).default([]),
    comment: z.string().default(''),
  })
  .strict();
export type SenderGroup = z.infer<typeof senderGroupSchema>;

export const listenerSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/, 'must start with a letter; letters, digits, _ or -'),
    type: z.enum(['public', 'private']),
    address: ipAddress,
    port,
    /** Banner and EHLO name; the global hostname when absent. */
    hostname: hostname.optional(),
    /** Certificate profile names; the first is the default, the others are chosen by SNI. */
    certificates: z.array(profileName).default(['Demo']),
    /** Recipient access table (public listeners): `example.com` exactly, `.example.com` its subdomains. */
    rat: z.array(z.string().regex(/^\.?[A-Za-z0-9_.-]+$/, 'must be a domain or .domain')).default([]),
    senderGroups: z.array(senderGroupSchema).default([]),
    policies: z.array(mailFlowPolicySchema).default([]),
  })
  .strict();
export type Listener = z.infer<typeof listenerSchema>;

export const certificateProfileSchema = z
  .object({
    name: profileName,
    source: z.enum(['demo', 'self-signed', 'imported', 'acme']),
    /** Leaf certificate, PEM. */
    certificate: z.string().includes('BEGIN CERTIFICATE', { message: 'must be a PEM certificate' }),
    /** Intermediates in order, PEM each. */
    intermediates: z.array(z.string()).default([]),
    /** Reference to the private key in the home key store: `sha256:<hex of the SPKI>`. */
    key: z.string().regex(/^sha256:[0-9a-f]{64}$/, 'must be a key reference sha256:<64 hex>'),
  })
  .strict();
export type CertificateProfile = z.infer<typeof certificateProfileSchema>;

const destinationSettings = {
  tls: z.enum(OUTBOUND_TLS_LEVELS).default('preferred'),
  dane: z.enum(['no', 'opportunistic', 'mandatory']).default('no'),
  maxConcurrency: positiveInt.default(10),
  maxMessagesPerConnection: positiveInt.default(100),
  maxRecipientsPerPeriod: positiveInt.nullable().default(null),
  periodMinutes: positiveInt.default(60),
  ipPreference: z.enum(['prefer-v4', 'prefer-v6', 'require-v4', 'require-v6']).default('prefer-v4'),
};
export const destinationControlSchema = z
  .object({ domain: z.string().regex(/^(\.?[A-Za-z0-9_.-]+|\[[0-9a-fA-F:.]+\])$/, 'must be a domain, .domain or [ip]'), ...destinationSettings })
  .strict();
export type DestinationControl = z.infer<typeof destinationControlSchema>;
const destinationDefaultSchema = z.object(destinationSettings).strict();
export type DestinationSettings = z.infer<typeof destinationDefaultSchema>;

const tlsServiceSchema = z
  .object({
    minVersion: z.enum(TLS_VERSIONS).default('TLSv1.2'),
    /** OpenSSL cipher list for TLS 1.2 (TLS 1.3 suites are fixed by OpenSSL). */
    ciphers: z.string().default('ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:!aNULL:!eNULL:!EXPORT:!RC4:!3DES:!MD5'),
  })
  .strict();

const smtpRouteSchema = z
  .object({
    /** `example.com`, `.example.com` (subdomains) or `ALL` (catch-all). */
    domain: z.string().min(1),
    hosts: z.array(hostPort).min(1, 'needs at least one host'),
  })
  .strict();
export type SmtpRoute = z.infer<typeof smtpRouteSchema>;

const userSchema = z
  .object({
    name: z.string().regex(/^[a-z][a-z0-9_.-]{0,31}$/, 'must be a lower-case user name'),
    /** `scrypt$N$r$p$salt$hash` (base64). */
    passwordHash: z.string().startsWith('scrypt$'),
    role: z.enum(['admin', 'operator']).default('admin'),
  })
  .strict();

export const configSchema = z
  .object({
    schemaVersion: z.literal(CONFIG_SCHEMA_VERSION, { error: (issue) => schemaVersionProblem(issue.input) }).default(CONFIG_SCHEMA_VERSION),
    /** Global host name: banners, EHLO, Received:, bounces. */
    hostname: hostname,
    listeners: z.array(listenerSchema).default([]),
    certificates: z.array(certificateProfileSchema).default([]),
    trustStore: z
      .object({
        systemEnabled: z.boolean().default(true),
        customEnabled: z.boolean().default(true),
        custom: z.array(z.object({ name: z.string().min(1), certificate: z.string() }).strict()).default([]),
      })
      .strict()
      .prefault({}),
    smtpRoutes: z.array(smtpRouteSchema).default([]),
    destinationControls: z
      .object({
        default: destinationDefaultSchema.prefault({}),
        domains: z.array(destinationControlSchema).default([]),
        /** Outbound client certificate profile (`destconfig setup --certificate`). */
        certificate: profileName.nullable().default(null),
        alertOnRequiredTlsFailure: z.boolean().default(true),
        /**
         * Local address delivery connections to IPv4 / IPv6 next hops are made from
         * (`destconfig setup --source-address-v4/-v6`); null lets the OS choose.
         */
        sourceAddressV4: ipv4Address.nullable().default(null),
        sourceAddressV6: ipv6Address.nullable().default(null),
      })
      .strict()
      .prefault({}),
    smtp: z
      .object({
        maxConnections: positiveInt.default(1000),
        commandTimeoutSeconds: seconds.default(300),
        dataTimeoutSeconds: seconds.default(600),
        sessionTimeoutSeconds: seconds.default(1800),
        tlsHandshakeTimeoutSeconds: seconds.default(30),
        /** How long a session of a `reject` policy may stay (503 to everything) before it is closed. */
        rejectTimeoutSeconds: seconds.default(30),
        maxBadCommands: positiveInt.default(5),
        maxReceivedHeaders: positiveInt.default(25),
        /** Bare CR or LF inside DATA: normalise to CRLF, or reject the message. */
        bareLineEndings: z.enum(['normalize', 'reject']).default('normalize'),
        /** On stop: how long open sessions may finish before they are cut. */
        shutdownGraceSeconds: seconds.default(30),
      })
      .strict()
      .prefault({}),
    ssl: z
      .object({ inbound: tlsServiceSchema.prefault({}), outbound: tlsServiceSchema.prefault({}), gui: tlsServiceSchema.prefault({}) })
      .strict()
      .prefault({}),
    dns: z
      .object({
        /** `host[:port]` list; empty uses the system resolver. Tests point this at a fake DNS on loopback. */
        servers: z.array(hostPort).default([]),
        timeoutMs: positiveInt.default(5000),
      })
      .strict()
      .prefault({}),
    reputation: z
      .object({ dnsbl: z.array(z.object({ zone: hostname, score: z.number().min(-10).max(10) }).strict()).default([]) })
      .strict()
      .prefault({}),
    queue: z
      .object({
        retryInitialSeconds: seconds.default(60),
        retryMaxSeconds: seconds.default(3600),
        /** RFC 5321 §4.5.4.1 suggests 4-5 days; 120 h is the ceiling. */
        lifetimeHours: z.number().positive().max(120, 'must be at most 120 (5 days)').default(72),
        /** A delay warning (DSN, Action: delayed) once per message still queued after this long; 0 = never. */
        delayWarningHours: z.number().min(0).max(120, 'must be at most 120 (5 days)').default(4),
        /** Open delivery connections to one next-hop IP address, across all destination domains (domains sharing an MX). */
        maxConnectionsPerIp: positiveInt.default(50),
        /** fsync the spool before 250 (turn off only for throwaway test homes). */
        fsync: z.boolean().default(true),
      })
      .strict()
      .prefault({}),
    logging: z
      .object({
        mailLog: z
          .object({
            maxBytes: positiveInt.default(10 * MiB),
            retain: positiveInt.default(10),
            rotateDaily: z.boolean().default(true),
            json: z.boolean().default(true),
            /** Forwarding of every mail-log text line to a remote syslog server (RFC 3164 form); off while `target` is null. */
            syslog: z
              .object({
                /** `udp:HOST:PORT` or `tcp:HOST:PORT` (RFC 6587 octet counting), HOST an IP address, IPv6 in brackets; null: off. */
                target: z
                  .string()
                  .refine((t) => syslogTargetProblem(t) === null, { error: (issue) => syslogTargetProblem(String(issue.input)) ?? 'is not a syslog target' })
                  .nullable()
                  .default(null),
                facility: z.enum(SYSLOG_FACILITIES, { error: `must be one of ${SYSLOG_FACILITIES.join(', ')}` }).default('mail'),
                tag: z.string().regex(SYSLOG_TAG_RE, SYSLOG_TAG_RULE).default('mail_logs'),
                /** Lines kept in memory while the server cannot take them; beyond this the oldest are dropped (counted). */
                queueLines: positiveInt.max(1_000_000, 'must be at most 1000000').default(10_000),
              })
              .strict()
              .prefault({}),
          })
          .strict()
          .prefault({}),
        level: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
      })
      .strict()
      .prefault({}),
    gui: z
      .object({
        address: ipAddress.default('127.0.0.1'),
        port: port.default(8443),
        certificate: profileName.default('Demo'),
        /** A GUI session with no request for this long is logged out. */
        idleTimeoutMinutes: z.number().int('must be a whole number').min(1, 'must be 1-1440').max(1440, 'must be 1-1440').default(30),
      })
      .strict()
      .prefault({}),
    alerts: z
      .object({
        recipients: z
          .array(
            z
              .object({
                address: z.string().includes('@', { message: 'must be an email address' }),
                classes: z.array(z.enum(['system', 'tls', 'certificates', 'queue', 'security'])).default(['system', 'tls', 'certificates', 'queue', 'security']),
                severities: z.array(z.enum(['critical', 'warning', 'info'])).default(['critical', 'warning', 'info']),
              })
              .strict(),
          )
          .default([]),
        /** Header From of alert mail; null: `gatehouse@<hostname>`. The envelope sender is always `<>`. */
        from: z.string().nullable().default(null),
        /** The same condition (alert key) is not sent again within this many minutes. */
        debounceMinutes: positiveInt.default(60),
        /** How often certificate expiry and queue size are checked (also once at start). */
        checkIntervalSeconds: positiveInt.default(300),
        /** Inbound TLS handshake failures: alert when more than this many happen within the window; 0 turns the alert off. */
        tlsFailureThreshold: z.number().int('must be a whole number').min(0, 'must be 0 or more').default(20),
        tlsFailureWindowMinutes: positiveInt.default(10),
        /** Queue growth: alert when more than this many messages are in the spool; 0 turns the alert off. */
        queueThreshold: z.number().int('must be a whole number').min(0, 'must be 0 or more').default(1000),
      })
      .strict()
      .prefault({}),
    users: z.array(userSchema).default([]),
  })
  .strict();

/** A validated configuration with every default filled in. */
export type Config = z.infer<typeof configSchema>;
/** What a user may write: defaults may be left out. */
export type ConfigInput = z.input<typeof configSchema>;
