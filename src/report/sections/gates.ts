/** The preflight gates: all passed in one line, or the ones that did not pass with what to do. */
import type { GateResult } from '../../workflows/definitions';
import { code, text, word, type Section } from '../document';
import { plural } from '../format';

export function gatesSection(gates: GateResult[] | undefined): Section | undefined {
  if (!gates || gates.length === 0) return undefined;
  const notPassed = gates.filter((gate) => gate.status !== 'pass');
  if (notPassed.length === 0) {
    return {
      id: 'gates',
      title: 'Gates',
      blocks: [{ kind: 'text', text: text(`All ${plural(gates.length, 'gate')} passed.`, 'good') }],
    };
  }
  return {
    id: 'gates',
    title: 'Gates that did not pass',
    blocks: [
      {
        kind: 'table',
        columns: ['Gate', 'Status', 'What was found', 'What to do'],
        rows: notPassed.map((gate) => [
          code(gate.name),
          word(gate.status),
          text(gate.message),
          text(gate.action ?? '—'),
        ]),
      },
      {
        kind: 'text',
        text: text(`${gates.length - notPassed.length} of ${plural(gates.length, 'gate')} passed.`),
      },
    ],
  };
}
