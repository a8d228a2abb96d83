import { test } from 'vitest';
import { periodAt, parsePeriodId } from '../src/index.js';
const iso = (p: any) => p && `${p.id} ${new Date(p.start).toISOString()} ${new Date(p.end).toISOString()} ${(p.end - p.start) / 3600000}h`;
test('x', () => {
  const D = { unit: 'day', step: 1 } as const, H = { unit: 'hour', step: 1 } as const, W = { unit: 'week', step: 1 } as const;
  const cases: [any, string, string][] = [
    [D, 'America/New_York', '2024-03-10T12:00:00Z'], [D, 'America/New_York', '2024-11-03T12:00:00Z'],
    [H, 'America/New_York', '2024-03-10T07:30:00Z'], [H, 'America/New_York', '2024-11-03T05:30:00Z'], [H, 'America/New_York', '2024-11-03T06:30:00Z'], [H, 'America/New_York', '2024-11-04T04:30:00Z'],
    [D, 'America/Havana', '2024-03-10T12:00:00Z'], [D, 'America/Santiago', '2024-09-08T12:00:00Z'], [D, 'Asia/Beirut', '2024-03-31T12:00:00Z'], [D, 'America/Sao_Paulo', '2018-11-04T12:00:00Z'],
    [D, 'America/Goose_Bay', '1988-10-30T03:00:00Z'], [D, 'America/Goose_Bay', '1988-10-30T01:00:00Z'],[D, 'America/Goose_Bay', '1988-10-29T12:00:00Z'],
    [D, 'Australia/Lord_Howe', '2024-10-06T00:00:00Z'], [H, 'Australia/Lord_Howe', '2024-10-06T13:10:00Z'], [D, 'Australia/Lord_Howe', '2024-04-07T00:00:00Z'], [H, 'Australia/Lord_Howe', '2024-04-07T13:10:00Z'],
    [H, 'Asia/Kolkata', '2024-06-01T10:20:00Z'], [H, 'Asia/Kathmandu', '2024-06-01T10:20:00Z'],
    [D, 'Pacific/Apia', '2011-12-30T09:59:59Z'], [D, 'Pacific/Apia', '2011-12-30T10:00:00Z'],
    [W, 'UTC', '2026-12-31T12:00:00Z'], [W, 'UTC', '2027-01-01T12:00:00Z'], [W, 'UTC', '2027-01-04T00:00:00Z'], [W, 'UTC', '2024-12-30T00:00:00Z'],
    [{unit:'minute',step:15}, 'UTC', '2026-11-15T10:50:00Z'], [{unit:'month',step:3}, 'UTC', '2026-11-15T10:50:00Z'], [{unit:'quarter',step:2}, 'UTC', '2026-11-15T10:50:00Z'],
    [D, 'Antarctica/Troll', '2024-03-31T12:00:00Z'],
  ];
  for (const [s, z, t] of cases) console.log(s.unit, s.step, z, t, '=>', iso(periodAt(s, z, Date.parse(t))));
  for (const [u, id] of [['day','21000229'],['day','20240229'],['day','20260431'],['week','2025W53'],['week','2026W53'],['day','20111230'],['hour','2024110324'],['hour','2024110424'], ['month', '202602']] as const) console.log('parse', u, id, iso(parsePeriodId({unit: u, step: 1}, u === 'hour' ? 'America/New_York' : 'Pacific/Apia', id)));
});
