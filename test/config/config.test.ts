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

describe('configuration: hooks, notifications and objectives', () => {
  const group = (extra: string) =>
    `inventory:\n  fog:\n    subscriptionId: 00000000-1111-2222-3333-444444444444\n    resourceGroup: rg\n    primaryLocation: eastus\n    secondaryLocation: westus\n${extra}`;
  const refused = (text: string, pattern: RegExp) =>
    assert.throws(
      () => loadConfig({ env: {}, path: file(text) }),
      (error: Error) => {
        assert.ok(error instanceof ConfigError, String(error));
        assert.match(error.message, pattern);
        return true;
      },
    );

  it('parses hooks, objectives and notifications with their defaults', () => {
    const config = loadConfig({
      env: {},
      path: file(
        group(
          '    hooks:\n      before:\n        - { name: pause-jobs, url: "https://jobs.example.com/pause" }\n' +
            '      after:\n        - name: purge-cache\n          url: http://127.0.0.1:8080/purge\n          headers: { Authorization: { env: CACHE_TOKEN }, X-Team: data }\n          body: { group: "{{group}}" }\n' +
            '    objectives: { rto: 5 minutes, rpo: 30 seconds, drillInterval: 30 days }\n',
        ) +
          'notifications:\n  - { name: ops, url: "https://ops.example.com/fogpilot", secretEnv: OPS_KEY }\n  - { name: chat, urlEnv: SLACK_URL, format: slack, events: [failed], groups: [fog] }\n',
      ),
    });
    const entry = config.inventory.fog!;
    assert.deepEqual(entry.hooks, {
      before: [
        {
          name: 'pause-jobs',
          url: 'https://jobs.example.com/pause',
          method: 'POST',
          timeout: 30_000,
          attempts: 3,
          onFailure: 'stop',
        },
      ],
      after: [
        {
          name: 'purge-cache',
          url: 'http://127.0.0.1:8080/purge',
          method: 'POST',
          headers: { Authorization: { env: 'CACHE_TOKEN' }, 'X-Team': 'data' },
          body: { group: '{{group}}' },
          timeout: 30_000,
          attempts: 3,
          onFailure: 'warn',
        },
      ],
    });
    assert.deepEqual(entry.objectives, { rto: 300_000, rpo: 30_000, drillInterval: 2_592_000_000 });
    assert.deepEqual(config.notifications, [
      {
        name: 'ops',
        url: 'https://ops.example.com/fogpilot',
        format: 'json',
        secretEnv: 'OPS_KEY',
        events: ['started', 'awaitingApproval', 'pointOfNoReturn', 'succeeded', 'failed', 'azureFailoverSeen'],
        timeout: 10_000,
      },
      { name: 'chat', urlEnv: 'SLACK_URL', format: 'slack', events: ['failed'], groups: ['fog'], timeout: 10_000 },
    ]);
    assert.equal(inventoryOf(config).get('fog')?.name, 'fog');
  });

  it('refuses a before hook that would only warn, naming the key and the fix', () => {
    refused(
      group(
        '    hooks:\n      before:\n        - { name: pause-jobs, url: "https://jobs.example.com/p", onFailure: warn }\n',
      ),
      /inventory\.fog\.hooks\.before\.0\.onFailure: onFailure of a before hook can only be stop.*use an after hook to only warn/,
    );
    refused(
      group('    hooks:\n      after:\n        - { name: purge, url: "https://c.example.com/p", onFailure: stop }\n'),
      /inventory\.fog\.hooks\.after\.0\.onFailure: onFailure of an after hook is warn .* or fail/,
    );
  });

  it('refuses a notification endpoint with both url and urlEnv, or neither', () => {
    refused(
      'notifications:\n  - { name: ops, url: "https://ops.example.com/n", urlEnv: OPS_URL, secretEnv: OPS_KEY }\n',
      /notifications\.0\.url: give url or urlEnv, not both/,
    );
    refused('notifications:\n  - { name: ops, secretEnv: OPS_KEY }\n', /notifications\.0\.urlEnv: say where to send/);
  });

  it('keeps secrets out of the file: a credential header written out, a chat webhook URL, a credential in a query string', () => {
    refused(
      group(
        '    hooks:\n      after:\n        - { name: purge, url: "https://c.example.com/p", headers: { Authorization: "Bearer abc" } }\n',
      ),
      /inventory\.fog\.hooks\.after\.0\.headers\.Authorization: Authorization carries a credential.*\{ env: NAME \}/,
    );
    refused(
      group('    hooks:\n      after:\n        - { name: purge, url: "https://c.example.com/p?code=abc" }\n'),
      /inventory\.fog\.hooks\.after\.0\.url: url must not carry a credential in its query string \(the parameter "code"/,
    );
    refused(
      'notifications:\n  - { name: chat, url: "https://hooks.slack.com/services/T/B/X", format: slack }\n',
      /notifications\.0\.url: a Slack webhook URL is itself a secret.*urlEnv/,
    );
    refused(
      'notifications:\n  - { name: ops, url: "https://ops.example.com/n" }\n',
      /notifications\.0\.secretEnv: format json is signed/,
    );
  });

  it('refuses plain http beyond this machine, over-long timeouts, repeated names, unknown placeholders and groups', () => {
    refused(
      group('    hooks:\n      after:\n        - { name: purge, url: "http://cache.example.com/p" }\n'),
      /hooks\.after\.0\.url: url must be https \(plain http only to localhost or 127\.0\.0\.1\)/,
    );
    refused(
      group(
        '    hooks:\n      after:\n        - { name: purge, url: "https://c.example.com/p", timeout: 10 minutes }\n',
      ),
      /hooks\.after\.0\.timeout: timeout must be more than 0 and at most 5 minutes/,
    );
    refused(
      group('    hooks:\n      after:\n        - { name: purge, url: "https://c.example.com/p", attempts: 11 }\n'),
      /hooks\.after\.0\.attempts: attempts must be 1 to 10/,
    );
    refused(
      group(
        '    hooks:\n      before:\n        - { name: purge, url: "https://c.example.com/p" }\n      after:\n        - { name: purge, url: "https://c.example.com/q" }\n',
      ),
      /hooks\.after\.0\.name: the name purge is used twice in this group/,
    );
    refused(
      group(
        '    hooks:\n      after:\n        - { name: purge, url: "https://c.example.com/p", body: { g: "{{grp}}" } }\n',
      ),
      /hooks\.after\.0\.body: unknown placeholder\(s\) \{\{grp\}\}; the known ones are \{\{group\}\}/,
    );
    refused(
      group('    objectives: { rto: soon }\n'),
      /inventory\.fog\.objectives\.rto: rto must be a duration such as "5 minutes"/,
    );
    refused(
      group('') + 'notifications:\n  - { name: ops, urlEnv: OPS_URL, secretEnv: OPS_KEY, groups: [fog, fog-typo] }\n',
      /notifications\.0\.groups: fog-typo is not in the inventory \(it has fog\)/,
    );
  });
});

describe('configuration: recovery point objectives and the workload', () => {
  const ARM = '/subscriptions/s1/resourceGroups/rg/providers';
  const entry =
    'inventory:\n  fog:\n    subscriptionId: 00000000-0000-0000-0000-000000000001\n    resourceGroup: rg\n    primaryLocation: eastus\n    secondaryLocation: westus\n';

  it('parses objectives.backupRpo and the workload with its RPOs', () => {
    const config = loadConfig({
      env: {},
      path: file(
        entry +
          '    objectives: { backupRpo: 1 hour }\n' +
          'workload:\n' +
          `  vault: ${ARM}/Microsoft.RecoveryServices/vaults/vault-app\n` +
          `  vms: [${ARM}/Microsoft.Compute/virtualMachines/vm-1]\n` +
          `  cosmosAccounts: [${ARM}/Microsoft.DocumentDB/databaseAccounts/cosmos-1]\n` +
          '  vmRpo: 1 day\n  cosmosRpo: 4 hours\n',
      ),
    });
    assert.equal(config.inventory.fog?.objectives?.backupRpo, 3_600_000);
    assert.deepEqual(config.workload, {
      vault: `${ARM}/Microsoft.RecoveryServices/vaults/vault-app`,
      vms: [`${ARM}/Microsoft.Compute/virtualMachines/vm-1`],
      cosmosAccounts: [`${ARM}/Microsoft.DocumentDB/databaseAccounts/cosmos-1`],
      vmRpo: 86_400_000,
      cosmosRpo: 14_400_000,
    });
  });

  it('names the key when an RPO, an ARM id or the vault is wrong', () => {
    const refused = (yaml: string, pattern: RegExp) =>
      assert.throws(
        () => loadConfig({ env: {}, path: file(yaml) }),
        (error: unknown) => {
          assert.ok(error instanceof ConfigError);
          assert.match(error.message, pattern);
          return true;
        },
      );
    refused(
      entry + '    objectives: { backupRpo: often }\n',
      /inventory\.fog\.objectives\.backupRpo: backupRpo must be a duration such as "1 hour"/,
    );
    refused('workload:\n  vmRpo: daily\n', /workload\.vmRpo: workload\.vmRpo must be a duration/);
    refused('workload:\n  cosmosRpo: 0\n', /workload\.cosmosRpo: workload\.cosmosRpo must be more than 0/);
    refused(
      `workload:\n  vault: ${ARM}/Microsoft.RecoveryServices/vaults/v\n  vms: [${ARM}/Microsoft.Compute/disks/d1]\n`,
      /workload\.vms\.0: workload\.vms\[\] must be the ARM id of a Microsoft\.Compute\/virtualMachines/,
    );
    refused(
      `workload:\n  vms: [${ARM}/Microsoft.Compute/virtualMachines/vm-1]\n`,
      /workload\.vault: workload\.vault must name the Recovery Services vault/,
    );
    refused('workload:\n  vaults: []\n', /workload: unknown key\(s\) vaults/);
  });
});
