import { readFileSync, writeFileSync } from 'node:fs';
import { Keyspace, parseRule } from '@periodkey/ratelimit/keys';
import { expect, test } from 'vitest';

// The README's example keys come from the code: this test fails when they drift, and
// UPDATE_README=1 pnpm vitest run packages/ratelimit/test/readme.test.ts rewrites them.
const README = new URL('../README.md', import.meta.url);
const START = '<!-- example-keys:start -->';
const END = '<!-- example-keys:end -->';
const AT = Date.parse('2026-11-01T03:37:15Z');
const ZONES = ['UTC', 'America/New_York'];
const RULES = [
  '10/second',
  '10/minute',
  '100 per 15 minutes',
  '1000/hour',
  '1000/day',
  '5000/week',
  '10/month',
  '100/quarter',
  '1000/year',
];

function exampleTable(): string {
  const keysIn = (timeZone: string) =>
    RULES.map((rule) => {
      const [ruleKey] = new Keyspace({
        prefix: 'ratelimit',
        timeZone,
        rules: [parseRule('quota', rule)],
      }).keys('user:42', '/api/chat', AT);
      return `\`${ruleKey?.key}\``;
    });
  const columns = ZONES.map(keysIn);
  const rows = [
    ['rule', ...ZONES.map((zone) => `\`timeZone: '${zone}'\``)],
    ...RULES.map((rule, i) => [`\`'${rule}'\``, ...columns.map((keys) => keys[i] ?? '')]),
  ];
  return [
    `Keys of a rule named \`quota\`, for identity \`user:42\` and scope \`/api/chat\`, at ${new Date(AT).toISOString()}:`,
    '',
    ...markdownTable(rows),
  ].join('\n');
}

/** A table with padded columns, as Biome formats Markdown. */
function markdownTable(rows: string[][]): string[] {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => row[column]?.length ?? 0))) ?? [];
  const line = (cells: string[]) =>
    `| ${cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(' | ')} |`;
  const [header = [], ...body] = rows;
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...body.map(line)];
}

test('the README shows the keys that the code builds', () => {
  const readme = readFileSync(README, 'utf8');
  expect(readme).toContain(START);
  expect(readme).toContain(END);
  const start = readme.indexOf(START) + START.length;
  const end = readme.indexOf(END);
  const expected = `\n${exampleTable()}\n`;
  if (process.env.UPDATE_README) writeFileSync(README, readme.slice(0, start) + expected + readme.slice(end));
  else expect(readme.slice(start, end)).toBe(expected);
});
