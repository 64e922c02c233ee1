import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, inventoryOf, loadConfig } from '../../src/config/config';
import { writeTempConfig as file, writeTempFile } from '../support/temp-files';

describe('configuration', () => {
  it('defaults to Azure public cloud with DefaultAzureCredential and the fogpilot task queue', () => {
    const config = loadConfig({ env: {}, path: file('{}\n') });
    assert.equal(config.armEndpoint, 'https://management.azure.com');
    assert.equal(config.azure.credential, 'default');
    assert.equal(config.azure.requestTimeout, 30_000);
    assert.equal(config.temporal.taskQueue, 'fogpilot');
  });

  it("uses the sovereign cloud's endpoints, and lets the environment override endpoint, credential and task queue", () => {
    const gov = loadConfig({ env: {}, path: file('azure:\n  cloud: AzureUSGovernment\n') });
    assert.equal(gov.armEndpoint, 'https://management.usgovcloudapi.net');
    const overridden = loadConfig({
      env: {
        FOGPILOT_ARM_ENDPOINT: 'http://127.0.0.1:8080/',
        FOGPILOT_AZURE_CREDENTIAL: 'emulator',
        FOGPILOT_TASK_QUEUE: 'fogpilot-drills',
      },
      path: file('azure:\n  credential: default\n'),
    });
    assert.equal(overridden.armEndpoint, 'http://127.0.0.1:8080');
    assert.equal(overridden.azure.credential, 'emulator');
    assert.equal(overridden.temporal.taskQueue, 'fogpilot-drills');
  });

  it('reads azure.caFile at load (FOGPILOT_CA_FILE overrides it), and refuses one it cannot read, naming the command that writes it', () => {
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    const ca = writeTempFile('ca.pem', pem, 'fogpilot-ca-');
    assert.equal(loadConfig({ env: {}, path: file(`azure:\n  caFile: ${ca}\n`) }).ca, pem);
    assert.equal(loadConfig({ env: { FOGPILOT_CA_FILE: ca }, path: file('{}\n') }).ca, pem);
    assert.equal(loadConfig({ env: {}, path: file('{}\n') }).ca, undefined);
    assert.throws(
      () => loadConfig({ env: {}, path: file('azure:\n  caFile: /nowhere/ca.pem\n') }),
      (error: Error) =>
        error instanceof ConfigError &&
        /\/nowhere\/ca\.pem/.test(error.message) &&
        /fogpilot emulator --tls --ca-file/.test(error.message),
    );
    const notPem = writeTempFile('ca.pem', 'hello', 'fogpilot-ca-');
    assert.throws(() => loadConfig({ env: {}, path: file(`azure:\n  caFile: ${notPem}\n`) }), /no PEM certificate/);
  });

  it('builds the inventory, the group name defaulting to its key', () => {
    const config = loadConfig({
      env: {},
      path: file(
        'inventory:\n  fog-sales:\n    subscriptionId: 00000000-1111-2222-3333-444444444444\n    resourceGroup: rg\n    primaryLocation: eastus\n    secondaryLocation: westus\n',
      ),
    });
    assert.equal(inventoryOf(config).get('fog-sales')?.name, 'fog-sales');
  });

  it('names the key and the fix when a value is wrong', () => {
    assert.throws(
      () => loadConfig({ env: {}, path: file('azure:\n  credential: laptop\n') }),
      (error: Error) => {
        assert.ok(error instanceof ConfigError);
        assert.match(
          error.message,
          /azure\.credential \(or FOGPILOT_AZURE_CREDENTIAL\): azure\.credential must be "default"/,
        );
        return true;
      },
    );
    assert.throws(
      () =>
        loadConfig({
          env: {},
          path: file(
            'inventory:\n  fog:\n    subscriptionId: nope\n    resourceGroup: rg\n    primaryLocation: eastus\n    secondaryLocation: eastus\n',
          ),
        }),
      /inventory\.fog\.subscriptionId: subscriptionId must be a subscription GUID.*inventory\.fog\.secondaryLocation/,
    );
    assert.throws(() => loadConfig({ env: {}, path: file('azure:\n  colud: x\n') }), /azure: unknown key\(s\) colud/);
    assert.throws(() => loadConfig({ env: {}, path: file('azure: [\n') }), /not valid YAML/);
    assert.throws(
      () => loadConfig({ env: { FOGPILOT_CONFIG: '/nowhere/fogpilot.yaml' } }),
      /does not exist\. Set FOGPILOT_CONFIG/,
    );
  });

  it('refuses a secret where only the name of its environment variable belongs', () => {
    assert.throws(
      () =>
        loadConfig({
          env: {},
          path: file('sql:\n  auth:\n    auth: sql-login\n    userEnv: fogpilot\n    passwordEnv: Sup3r-secret!\n'),
        }),
      /passwordEnv must name an environment variable/,
    );
  });
});
