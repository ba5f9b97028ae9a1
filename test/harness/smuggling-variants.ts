/**
 * End-of-data look-alikes for SMTP smuggling tests (bare CR/LF and NUL around
 * the dot); none contains the real `\r\n.\r\n`. One list, used by the inbound
 * matrix and by the relay matrix.
 */
export const SMUGGLING_VARIANTS: readonly string[] = [
  '\n.\n',
  '\r.\r',
  '\r\n.\n',
  '\n.\r\n',
  '\r.\n',
  '\n.\r',
  '\r\n.\r',
  '\r.\r\n',
  '\n\r.\r\n',
  '\r\n\x00.\r\n',
  '\r\n.\x00\r\n',
  '\r\n\x00.\x00\r\n',
  '\r\n.\r\r\n',
  '\r\n.\n\r\n',
];
