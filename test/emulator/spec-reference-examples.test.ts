/**
 * The emulator against every REST specification example in ../shared/reference/arm-examples (read at run time): each
 * test sends the example's request over raw HTTP, with its method, path and parameters, and compares the status, the
 * headers the example names, and the body's shape (property paths and JSON types; world-specific values by format).
 * test/emulator/arm-bodies.test.ts compares the values of the same bodies.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { asyncUrlShape, assertShape, shapeOf } from '../support/arm-shape';
import {
  armRequest,
  examplesDir,
  failoverWorld,
  groupPath,
  haveExamples,
  instancePath,
  instancesWorld,
  listedGroupsWorld,
  readExample,
  settle,
  startSpecEmulator,
  unpairedWorld,
  valueAt,
  type SpecEmulator,
} from '../support/spec-worlds';

/** The examples this file covers; a new file in the directory fails the first test until it has one here. */
const COVERED = [
  '2022-05-01-preview_InstanceFailoverGroupCreateOrUpdate.json',
  '2022-05-01-preview_InstanceFailoverGroupGet.json',
  '2022-08-01-preview_ManagedInstanceGet.json',
  '2022-08-01-preview_ManagedInstanceUpdateMin.json',
  '2023-08-01_InstanceFailoverGroupDelete.json',
  '2023-08-01_InstanceFailoverGroupFailover.json',
];

/** Fields of the group body that the 2022-05-01-preview examples show in Get but not in CreateOrUpdate. */
const GROUP_GET_ONLY = {
  'properties.secondaryType': 'in InstanceFailoverGroupGet (2022-05-01-preview) and InstanceFailoverGroupFailover',
};

/** What the emulator answers for every instance that ManagedInstanceGet leaves out. */
const INSTANCE_EXTRA = {
  'properties.timezoneId':
    'in the response of ManagedInstanceCreateMax (2022-08-01-preview, "UTC"): Azure answers the zone an instance was created with',
};

/** What ManagedInstanceGet shows that this world's instances do not have. */
const INSTANCE_NOT_MODELLED = {
  'properties.servicePrincipal':
    "Azure answers it only for an instance with a service principal; the emulator's instances have none",
  'properties.instancePoolId':
    'an instance in an instance pool cannot join a failover group (azure-sql-mi-failover.md, Limits), so the emulator has no pools',
};

describe(
  'the emulator answers as the REST specification examples in ../shared/reference',
  {
    skip: !haveExamples && `no examples at ${examplesDir}`,
  },
  () => {
    const started: SpecEmulator[] = [];
    const start = async (world: Parameters<typeof startSpecEmulator>[0]) => {
      const emulator = await startSpecEmulator(world);
      started.push(emulator);
      return emulator;
    };
    after(async () => {
      await Promise.all(started.map(({ emulator }) => emulator.close()));
    });

    it('has a test for every example in the reference directory', () => {
      const files = readdirSync(examplesDir)
        .filter((file) => file.endsWith('.json'))
        .sort();
      assert.deepEqual(files, [...COVERED].sort(), 'add a test here for each new example');
    });

    describe('InstanceFailoverGroupGet and InstanceFailoverGroupDelete, in the world of two groups at Japan East', () => {
      let world: SpecEmulator;
      before(async () => {
        world = await start(listedGroupsWorld());
      });

      it('answers GET of a failover group with 200 and the body shape of InstanceFailoverGroupGet', async () => {
        const example = readExample('2022-05-01-preview_InstanceFailoverGroupGet.json');
        const answer = await armRequest(
          world.emulator.armEndpoint,
          'GET',
          groupPath(example.parameters),
          example.parameters['api-version'],
        );
        assert.equal(answer.status, 200, JSON.stringify(answer.body));
        const expected = example.responses['200']!.body;
        assertShape(answer.body, shapeOf(expected), 'InstanceFailoverGroupGet (2022-05-01-preview)');
        assert.equal(valueAt(answer.body, 'type'), valueAt(expected, 'type'));
        assert.equal(valueAt(answer.body, 'name'), example.parameters.failoverGroupName);
      });

      it('answers DELETE of a failover group with a status InstanceFailoverGroupDelete lists, and the group is gone', async () => {
        const example = readExample('2023-08-01_InstanceFailoverGroupDelete.json');
        const answer = await armRequest(
          world.emulator.armEndpoint,
          'DELETE',
          groupPath(example.parameters),
          example.parameters['api-version'],
        );
        assert.ok(
          Object.keys(example.responses).includes(String(answer.status)),
          `DELETE answered ${answer.status}; the example lists ${Object.keys(example.responses).join(', ')}`,
        );
        // None of the example's responses has a body.
        assert.equal(answer.body, undefined);
        if (answer.status === 202) {
          const location = answer.headers.get('location');
          assert.ok(location, 'a 202 names where to follow the deletion');
          assert.ok([200, 204].includes((await settle(world, location)).status));
        }
        const after = await armRequest(
          world.emulator.armEndpoint,
          'GET',
          groupPath(example.parameters),
          example.parameters['api-version'],
        );
        assert.equal(after.status, 404);
      });
    });

    describe('InstanceFailoverGroupCreateOrUpdate, in the world of an unpaired pair', () => {
      it('answers the PUT with a status the example lists and, when it has one, the body shape of its 200/201', async () => {
        const world = await start(unpairedWorld());
        const example = readExample('2022-05-01-preview_InstanceFailoverGroupCreateOrUpdate.json');
        const answer = await armRequest(
          world.emulator.armEndpoint,
          'PUT',
          groupPath(example.parameters),
          example.parameters['api-version'],
          example.parameters.parameters,
        );
        assert.ok(
          Object.keys(example.responses).includes(String(answer.status)),
          `PUT answered ${answer.status} ${JSON.stringify(answer.body)}; the example lists ${Object.keys(example.responses).join(', ')}`,
        );
        // A long-running PUT may answer 201 with the group as it starts, or 202 and the group once it is created.
        const created =
          answer.status === 202
            ? await settle(world, answer.headers.get('location') ?? assert.fail('202 without Location'))
            : answer;
        const expected = example.responses[String(created.status)]?.body;
        assert.ok(expected !== undefined, `the example has no body for ${created.status}`);
        assertShape(created.body, shapeOf(expected), 'InstanceFailoverGroupCreateOrUpdate (2022-05-01-preview)', {
          extra: GROUP_GET_ONLY,
        });
        for (const at of [
          'type',
          'properties.readWriteEndpoint.failoverPolicy',
          'properties.readOnlyEndpoint.failoverPolicy',
        ]) {
          assert.equal(valueAt(created.body, at), valueAt(expected, at), at);
        }
        assert.equal(
          valueAt(created.body, 'properties.readWriteEndpoint.failoverWithDataLossGracePeriodMinutes'),
          480,
          'the grace period asked for is kept',
        );
      });
    });

    describe('InstanceFailoverGroupFailover, in the world of failover-group-test-3', () => {
      it('answers the failover at the secondary with 202 and a Location shaped as the example, then the group shaped as its 200', async () => {
        const world = await start(failoverWorld());
        const example = readExample('2023-08-01_InstanceFailoverGroupFailover.json');
        const answer = await armRequest(
          world.emulator.armEndpoint,
          'POST',
          groupPath(example.parameters, '/failover'),
          example.parameters['api-version'],
        );
        assert.ok(
          [200, 202].includes(answer.status),
          `failover answered ${answer.status} ${JSON.stringify(answer.body)}`,
        );
        assert.equal(answer.status, 202, 'a failover takes time: ARM answers 202 and the caller follows it');
        const exampleLocation = example.responses['202']!.headers!.Location!;
        const location = answer.headers.get('location');
        assert.ok(location, 'the 202 carries the Location header the example names');
        assert.equal(asyncUrlShape(location), asyncUrlShape(exampleLocation));
        assert.equal(new URL(location).origin, world.emulator.armEndpoint, 'the Location points back at the emulator');

        const done = await settle(world, location);
        assert.equal(done.status, 200, JSON.stringify(done.body));
        const expected = example.responses['200']!.body;
        assertShape(done.body, shapeOf(expected), 'InstanceFailoverGroupFailover (2023-08-01)');
        for (const at of [
          'type',
          'properties.replicationRole',
          'properties.partnerRegions[0].replicationRole',
          'properties.readWriteEndpoint.failoverPolicy',
        ]) {
          assert.equal(valueAt(done.body, at), valueAt(expected, at), at);
        }
      });
    });

    describe("ARM's error answers, as ../shared/reference/arm-error-codes.json records them", () => {
      const codes = () =>
        JSON.parse(readFileSync(path.join(examplesDir, '..', 'arm-error-codes.json'), 'utf8')) as {
          instanceFailoverGroups: { status: number; code: string }[];
        };
      const errorShape = { error: 'object', 'error.code': 'string', 'error.message': 'string' } as const;
      // errorBodyShape: target, details and additionalInfo are optional.
      const optional = { 'error.target': 'optional', 'error.details': 'optional', 'error.additionalInfo': 'optional' };

      it('refuses a failover sent to the primary with a status and code the failover-group spec lists, in the error body shape', async () => {
        const world = await start(failoverWorld());
        const example = readExample('2023-08-01_InstanceFailoverGroupFailover.json');
        const atPrimary = { ...example.parameters, locationName: 'Japan East' };
        const answer = await armRequest(
          world.emulator.armEndpoint,
          'POST',
          groupPath(atPrimary, '/failover'),
          example.parameters['api-version'],
        );
        assertShape(answer.body, errorShape, 'errorBodyShape', { extra: optional });
        const code = String(valueAt(answer.body, 'error.code'));
        assert.ok(
          ['InstanceFailoverGroupFailoverRequestOnPrimary', 'InstanceFailoverGroupNotSecondary'].includes(code),
          code,
        );
        const listed = codes().instanceFailoverGroups.find((entry) => entry.code === code);
        assert.equal(answer.status, listed?.status, `${code} is answered with the status the spec gives it`);
      });

      it('refuses to pair instances of different storage sizes with 400 GeoDrInstanceSizeMismatch, in the error body shape', async () => {
        const unequal = unpairedWorld();
        unequal.instances = unequal.instances.map((instance, index) => ({
          ...instance,
          storageSizeInGB: 256 * (index + 1),
        }));
        const world = await start(unequal);
        const example = readExample('2022-05-01-preview_InstanceFailoverGroupCreateOrUpdate.json');
        const answer = await armRequest(
          world.emulator.armEndpoint,
          'PUT',
          groupPath(example.parameters),
          example.parameters['api-version'],
          example.parameters.parameters,
        );
        assertShape(answer.body, errorShape, 'errorBodyShape', { extra: optional });
        assert.equal(valueAt(answer.body, 'error.code'), 'GeoDrInstanceSizeMismatch');
        const listed = codes().instanceFailoverGroups.find((entry) => entry.code === 'GeoDrInstanceSizeMismatch');
        assert.equal(answer.status, listed?.status);
      });

      it('answers a route it does not serve with 404 in the error body shape', async () => {
        const world = await start(failoverWorld());
        const answer = await armRequest(
          world.emulator.armEndpoint,
          'GET',
          `/subscriptions/${String(readExample('2023-08-01_InstanceFailoverGroupFailover.json').parameters.subscriptionId)}/providers/Microsoft.Sql/notAResourceType`,
          '2022-05-01-preview',
        );
        assert.equal(answer.status, 404);
        assertShape(answer.body, errorShape, 'errorBodyShape', { extra: optional });
      });
    });

    describe('ManagedInstanceGet and ManagedInstanceUpdateMin, in the world of testinstance', () => {
      let world: SpecEmulator;
      before(async () => {
        world = await start(instancesWorld());
      });

      it('answers GET of a managed instance with 200 and the body shape of ManagedInstanceGet', async () => {
        const example = readExample('2022-08-01-preview_ManagedInstanceGet.json');
        const answer = await armRequest(
          world.emulator.armEndpoint,
          'GET',
          instancePath(example.parameters),
          example.parameters['api-version'],
        );
        assert.equal(answer.status, 200, JSON.stringify(answer.body));
        const expected = example.responses['200']!.body;
        assertShape(answer.body, shapeOf(expected), 'ManagedInstanceGet (2022-08-01-preview)', {
          absent: INSTANCE_NOT_MODELLED,
          extra: INSTANCE_EXTRA,
        });
        assert.equal(valueAt(answer.body, 'type'), valueAt(expected, 'type'));
      });

      it('answers a PATCH of the tags alone with 200, the instance shaped as ManagedInstanceUpdateMin, and the new tags', async () => {
        const example = readExample('2022-08-01-preview_ManagedInstanceUpdateMin.json');
        const answer = await armRequest(
          world.emulator.armEndpoint,
          'PATCH',
          instancePath(example.parameters),
          example.parameters['api-version'],
          example.parameters.parameters,
        );
        assert.equal(answer.status, 200, `a change of tags alone is not a scale: ${JSON.stringify(answer.body)}`);
        const expected = example.responses['200']!.body;
        assertShape(answer.body, shapeOf(expected), 'ManagedInstanceUpdateMin (2022-08-01-preview)', {
          absent: INSTANCE_NOT_MODELLED,
          extra: {
            'properties.provisioningState': 'in ManagedInstanceGet of the same api-version',
            'properties.minimalTlsVersion': 'in ManagedInstanceGet of the same api-version',
            ...INSTANCE_EXTRA,
          },
        });
        assert.deepEqual(valueAt(answer.body, 'tags'), valueAt(expected, 'tags'));
        const read = await armRequest(
          world.emulator.armEndpoint,
          'GET',
          instancePath(example.parameters),
          example.parameters['api-version'],
        );
        assert.deepEqual(valueAt(read.body, 'tags'), valueAt(expected, 'tags'), 'a later GET shows the new tags');
      });
    });
  },
);
