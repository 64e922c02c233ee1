/**
 * The encryption a TDS server negotiates in PRELOGIN (MS-TDS 2.2.6.5, the ENCRYPTION option), and what runs on the
 * connection after it: see ../tls/tds-tls.ts for the TLS itself.
 */

/** PRELOGIN's ENCRYPTION values (MS-TDS 2.2.6.5). */
export const Encryption = { off: 0x00, on: 0x01, notSupported: 0x02, required: 0x03 } as const;

/** What the server answers to a client's ENCRYPTION, and what then runs on the connection. */
export interface EncryptionChoice {
  answer: number;
  /** `full`: TLS for the rest of the connection; `none`: plain TDS; `refused`: the answer, then the connection ends. */
  mode: 'none' | 'full' | 'refused';
}

/**
 * The server's side of the encryption negotiation (MS-TDS 2.2.6.5, the ENCRYPTION option's table, the column of a
 * server set to ENCRYPT_REQ). Azure SQL requires encryption on every connection: a client asking ON or REQ gets ON, a
 * client saying OFF gets REQ and must encrypt everything (tedious and mssql refuse it with EENCRYPT "Server requires
 * encryption", as users connecting to Azure with `encrypt: false` see), and a client that cannot encrypt (NOT_SUP)
 * gets REQ and the connection ends. Without a certificate (the emulator's plain mode) the server answers NOT_SUP to
 * everyone.
 */
export function negotiateEncryption(client: number | undefined, hasCertificate: boolean): EncryptionChoice {
  if (!hasCertificate) return { answer: Encryption.notSupported, mode: 'none' };
  switch (client) {
    case Encryption.on:
    case Encryption.required:
      return { answer: Encryption.on, mode: 'full' };
    case Encryption.off:
      return { answer: Encryption.required, mode: 'full' };
    default:
      return { answer: Encryption.required, mode: 'refused' };
  }
}
