/**
 * The emulator's certificate authority: made fresh at every start (nothing to install, nothing to leak), it signs the
 * ARM server's certificate (127.0.0.1 and localhost), one TDS certificate per DNS zone, named as Managed Instance's
 * are: `*.<zone>.database.windows.net`, plus `*.secondary.<zone>.database.windows.net` for the read-only listener
 * (source: ../shared/reference/azure-sql-mi-failover.md, "TLS on Managed Instance"), and one for SQL Database's
 * endpoints (see {@link SQL_DATABASE_TDS_NAMES}).
 *
 * Keys and signatures come from node:crypto (native: forge's JavaScript RSA takes ~200 ms a signature, and tests start
 * many emulators); node-forge builds the X.509 structures, which node:crypto cannot.
 */
import { generateKeyPair, randomBytes, sign, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import forge from 'node-forge';

/** A certificate and its private key, both PEM. */
export interface KeyAndCertificate {
  key: string;
  cert: string;
}

/** A CA and what it signs for one emulator. */
export interface EmulatorCertificates {
  /** The CA's certificate (PEM): what a client trusts. */
  ca: string;
  /** The ARM server's certificate: 127.0.0.1, localhost and the host the emulator listens on. */
  arm: KeyAndCertificate;
  /** The TDS certificate of a DNS zone, signed on first use (a loaded world may bring new zones). */
  tdsFor(zone: string): KeyAndCertificate;
  /**
   * The TDS certificate of Azure SQL Database's endpoints: every logical server (`<server>.database.windows.net`) and
   * every server failover group's listeners (`<group>.database.windows.net`, `<group>.secondary.database.windows.net`).
   */
  sqlDatabase: KeyAndCertificate;
}

/** How long the certificates are valid: a rehearsal emulator does not run for a year. */
const VALID_DAYS = 30;

interface Keys {
  key: KeyObject;
  publicKey: forge.pki.PublicKey;
  pem: string;
}

async function newKeys(): Promise<Keys> {
  const { privateKey, publicKey } = await promisify(generateKeyPair)('rsa', { modulusLength: 2048 });
  return {
    key: privateKey,
    publicKey: forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString()),
    pem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

/**
 * The leaves' key pair, made once per process: an RSA key takes a few hundred milliseconds to generate and tests start
 * many emulators. Each emulator still has its own CA key, so one emulator's CA never vouches for another's certificates.
 */
let leafKeysOnce: Promise<Keys> | undefined;

/** Signs as forge's `cert.sign(key, sha256)` does, with node:crypto doing the RSA. */
function signCertificate(cert: forge.pki.Certificate, issuerKey: KeyObject): void {
  cert.signatureOid = forge.pki.oids.sha256WithRSAEncryption!;
  cert.siginfo.algorithmOid = forge.pki.oids.sha256WithRSAEncryption!;
  // getTBSCertificate exists in forge but is missing from @types/node-forge.
  const pki = forge.pki as typeof forge.pki & { getTBSCertificate(cert: forge.pki.Certificate): forge.asn1.Asn1 };
  cert.tbsCertificate = pki.getTBSCertificate(cert);
  const der = Buffer.from(forge.asn1.toDer(cert.tbsCertificate).getBytes(), 'binary');
  cert.signature = sign('sha256', der, issuerKey).toString('binary');
}

function baseCertificate(publicKey: forge.pki.PublicKey, commonName: string): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  // A positive serial: the high bit cleared.
  cert.serialNumber = `01${randomBytes(15).toString('hex')}`;
  const now = Date.now();
  cert.validity.notBefore = new Date(now - 60_000);
  cert.validity.notAfter = new Date(now + VALID_DAYS * 86_400_000);
  cert.setSubject([
    { name: 'commonName', value: commonName },
    { name: 'organizationName', value: 'fogpilot emulator' },
  ]);
  return cert;
}

/** `*.<zone>.database.windows.net` and its read-only listener's `*.secondary.<zone>.database.windows.net`. */
export function tdsNames(zone: string): string[] {
  return [`*.${zone}.database.windows.net`, `*.secondary.${zone}.database.windows.net`];
}

/**
 * The names on SQL Database's certificate. Azure's logical servers share their region's gateway certificate, whose
 * subject names the gateway (`cr<n>.<region>.control.database.windows.net`) and whose alternative names cover, among
 * Azure's other database services, `*.database.windows.net` (every server and every group's read-write listener) and
 * `*.secondary.database.windows.net` (every group's read-only listener), as `openssl s_client` shows against any
 * server on port 1433; Learn's connection strings for SQL Database check `hostNameInCertificate=*.database.windows.net`.
 * The emulator's certificate carries those two names and no others: a wildcard covers one label, so a managed
 * instance's `<mi>.<zone>.database.windows.net` stays outside it, as on Azure.
 */
export const SQL_DATABASE_TDS_NAMES = ['*.database.windows.net', '*.secondary.database.windows.net'] as const;

/** Makes a CA and the ARM and TDS certificates it signs. */
export async function makeCertificates(options: {
  armHosts: string[];
  dnsZones: string[];
}): Promise<EmulatorCertificates> {
  leafKeysOnce ??= newKeys();
  const [caKeys, leafKeys] = await Promise.all([newKeys(), leafKeysOnce]);
  const ca = baseCertificate(caKeys.publicKey, 'fogpilot emulator CA');
  ca.setIssuer(ca.subject.attributes);
  ca.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  signCertificate(ca, caKeys.key);

  const leaf = (commonName: string, altNames: { type: number; value?: string; ip?: string }[]): KeyAndCertificate => {
    const cert = baseCertificate(leafKeys.publicKey, commonName);
    cert.setIssuer(ca.subject.attributes);
    cert.setExtensions([
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames },
    ]);
    signCertificate(cert, caKeys.key);
    return { key: leafKeys.pem, cert: forge.pki.certificateToPem(cert) };
  };

  const isIp = (host: string) => /^[\d.]+$/.test(host) || host.includes(':');
  const armHosts = [...new Set(['127.0.0.1', 'localhost', ...options.armHosts])];
  const arm = leaf(
    'localhost',
    armHosts.map((host) => (isIp(host) ? { type: 7, ip: host } : { type: 2, value: host })),
  );
  const tds = new Map<string, KeyAndCertificate>();
  const tdsFor = (zone: string): KeyAndCertificate => {
    const key = zone.toLowerCase();
    let entry = tds.get(key);
    if (!entry) {
      const names = tdsNames(key);
      entry = leaf(
        names[0]!,
        names.map((value) => ({ type: 2, value })),
      );
      tds.set(key, entry);
    }
    return entry;
  };
  for (const zone of options.dnsZones) tdsFor(zone);
  const sqlDatabase = leaf(
    SQL_DATABASE_TDS_NAMES[0],
    SQL_DATABASE_TDS_NAMES.map((value) => ({ type: 2, value })),
  );
  return { ca: forge.pki.certificateToPem(ca), arm, tdsFor, sqlDatabase };
}
