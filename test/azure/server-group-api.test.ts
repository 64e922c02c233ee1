/**
 * What each api-version of server failover groups offers, and the configuration key that chooses one.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_SQL_DATABASE_API_VERSION,
  SERVER_GROUP_API_VERSIONS,
  serverGroupApiOf,
} from '../../src/azure/server-group-api';
import { ConfigError, loadConfig } from '../../src/config/config';
import { writeTempConfig } from '../support/temp-files';

describe('serverGroupApiOf', () => {
  it('sends 2025-01-01 by default, which offers tryPlannedBeforeForcedFailover and several secondaries', () => {
    assert.equal(DEFAULT_SQL_DATABASE_API_VERSION, '2025-01-01');
    assert.deepEqual(serverGroupApiOf(), {
      apiVersion: '2025-01-01',
      tryPlannedBeforeForcedFailover: true,
      multipleSecondaries: true,
    });
  });

  it('says 2022-11-01-preview has neither and 2023-02-01-preview, the first to have them, has both', () => {
    assert.deepEqual(serverGroupApiOf('2022-11-01-preview'), {
      apiVersion: '2022-11-01-preview',
      tryPlannedBeforeForcedFailover: false,
      multipleSecondaries: false,
    });
    assert.deepEqual(serverGroupApiOf('2023-02-01-preview'), {
      apiVersion: '2023-02-01-preview',
      tryPlannedBeforeForcedFailover: true,
      multipleSecondaries: true,
    });
  });

  it('offers nothing new in the version @azure/arm-sql 10 sends for failover groups', () => {
    const api = serverGroupApiOf('2020-11-01-preview');
    assert.equal(api.tryPlannedBeforeForcedFailover, false);
    assert.equal(api.multipleSecondaries, false);
  });

  it('judges a version the table does not list by its date', () => {
    assert.equal(serverGroupApiOf('2021-11-01').tryPlannedBeforeForcedFailover, false);
    assert.equal(serverGroupApiOf('2025-02-01-preview').tryPlannedBeforeForcedFailover, true);
    assert.equal(serverGroupApiOf('2023-01-31').multipleSecondaries, false);
  });

  it('reads stable 2023-08-01 as published, without either, though its date is later', () => {
    assert.deepEqual(serverGroupApiOf('2023-08-01'), {
      apiVersion: '2023-08-01',
      tryPlannedBeforeForcedFailover: false,
      multipleSecondaries: false,
    });
    assert.equal(serverGroupApiOf('2023-08-01-preview').tryPlannedBeforeForcedFailover, true);
  });

  it('keeps every other listed version in agreement with the date rule', () => {
    for (const [version, offers] of Object.entries(SERVER_GROUP_API_VERSIONS)) {
      if (version === '2023-08-01') continue;
      const byDate = version.slice(0, 10) >= '2023-02-01';
      assert.equal(offers.tryPlannedBeforeForcedFailover, byDate, version);
      assert.equal(offers.multipleSecondaries, byDate, version);
    }
  });

  it('refuses a string that is not an api-version', () => {
    assert.throws(() => serverGroupApiOf('latest'), /not an api-version: "latest"/);
    assert.throws(() => serverGroupApiOf('2025-1-1'), /not an api-version/);
  });

  it('reads a version with another case or spaces around it as ARM does', () => {
    assert.equal(serverGroupApiOf(' 2023-05-01-Preview ').apiVersion, '2023-05-01-preview');
  });
});

describe('azure.sqlDatabaseApiVersion', () => {
  const load = (yaml: string) => loadConfig({ env: {}, path: writeTempConfig(yaml) });

  it('defaults to 2025-01-01', () => {
    assert.equal(load('{}\n').azure.sqlDatabaseApiVersion, '2025-01-01');
  });

  it('takes a preview version', () => {
    assert.equal(
      load('azure:\n  sqlDatabaseApiVersion: 2023-02-01-preview\n').azure.sqlDatabaseApiVersion,
      '2023-02-01-preview',
    );
  });

  it('names the key when the value is not an api-version', () => {
    assert.throws(
      () => load('azure:\n  sqlDatabaseApiVersion: newest\n'),
      (error: Error) =>
        error instanceof ConfigError && /azure\.sqlDatabaseApiVersion must be an api-version/.test(error.message),
    );
  });
});
