/**
 * The encryption a TDS server negotiates in PRELOGIN (MS-TDS 2.2.6.5, the ENCRYPTION option), and what runs on the
 * connection after it: see ../tls/tds-tls.ts for the TLS itself.
 */

/** PRELOGIN's ENCRYPTION values (MS-TDS 2.2.6.5). */
export const Encryption = { off: 0x00, on: 0x01, notSupported: 0x02, required: 0x03 } as const;

/** What the server answers to a client's ENCRYPTION, and what then runs on the connection. */
export interface EncryptionChoice {
  answer: number;
  /** `full`: TLS for the rest of the connection; `login`: LOGIN7 only (TLS then dropped); `none`: plain TDS. */
  mode: 'none' | 'login' | 'full';
}

/**
 * The server's side of the encryption negotiation (MS-TDS 2.2.6.5, the ENCRYPTION option's table): with a certificate,
 * a client asking ON or REQ gets ON and full encryption; a client saying OFF gets OFF, which means "encrypt the login
 * only"; a client saying NOT_SUP gets NOT_SUP and plain TDS (Azure would refuse it; the emulator lets it through).
 * Without a certificate the server answers NOT_SUP to everyone.
 */
export function negotiateEncryption(client: number | undefined, hasCertificate: boolean): EncryptionChoice {
  if (!hasCertificate) return { answer: Encryption.notSupported, mode: 'none' };
  switch (client) {
    case Encryption.on:
    case Encryption.required:
      return { answer: Encryption.on, mode: 'full' };
    case Encryption.off:
      return { answer: Encryption.off, mode: 'login' };
    default:
      return { answer: Encryption.notSupported, mode: 'none' };
  }
}
