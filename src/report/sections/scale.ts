/** A scaling: the direction and target (headline), and each instance's operation. */
import type { RunbookReport } from '../../workflows/definitions';
import { code, text, toneOf, type Block, type Fact, type Section } from '../document';

/** The direction and target; none without a scaling. */
export function scaleFact(report: RunbookReport): Fact | undefined {
  if (!report.scale) return undefined;
  return {
    key: 'scale',
    label: 'Scaling',
    value: report.scale.direction,
    tone: 'info',
    detail: describeScaleTarget(report.scale.target),
  };
}

function describeScaleTarget(target: NonNullable<RunbookReport['scale']>['target']): string {
  const sku = (value: { name: string; capacity?: number }) =>
    value.capacity !== undefined ? `${value.name} (${value.capacity})` : value.name;
  const parts = [
    target.vCores !== undefined ? `${target.vCores} vCores` : undefined,
    target.storageSizeInGB !== undefined ? `${target.storageSizeInGB} GB` : undefined,
    target.sku,
    // A SQL Database group: per database and per pool.
    ...Object.entries(target.databases ?? {}).map(([name, value]) => `database ${name} ${sku(value)}`),
    ...Object.entries(target.elasticPools ?? {}).map(([name, value]) => `pool ${name} ${sku(value)}`),
  ].filter(Boolean);
  return parts.length > 0 ? `to ${parts.join(', ')}` : 'no change requested';
}

export function scaleSection(report: RunbookReport): Section | undefined {
  const scale = report.scale;
  if (!scale) return undefined;
  const blocks: Block[] = [
    {
      kind: 'pairs',
      pairs: [
        ['Direction', text(scale.direction)],
        ['Target', text(describeScaleTarget(scale.target))],
      ],
    },
  ];
  if (scale.operations.length > 0) {
    blocks.push({
      kind: 'table',
      columns: ['Instance', 'Location', 'Role', 'From', 'To', 'State'],
      rows: scale.operations.map((operation) => [
        code(operation.instance),
        text(operation.location),
        text(operation.role),
        text(JSON.stringify(operation.from)),
        text(JSON.stringify(operation.to)),
        text(operation.state, toneOf(operation.state.toLowerCase())),
      ]),
    });
  }
  return { id: 'scale', title: 'Scaling', blocks };
}
