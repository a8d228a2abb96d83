/** One bar: a label, its value, and whether it is one of ours (drawn in a stronger colour). */
export interface Bar {
  readonly label: string;
  readonly value: number;
  readonly ours: boolean;
}

const WIDTH = 900;
const LABEL_WIDTH = 380;
const VALUE_WIDTH = 80;
const BAR_HEIGHT = 22;
const GAP = 8;
const TOP = 44;

const xml = (text: string) =>
  text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');

/** A horizontal bar chart as a standalone SVG document, bars in the given order, scaled to the largest. */
export function barChart(title: string, unit: string, bars: readonly Bar[]): string {
  const max = Math.max(...bars.map((b) => b.value), 1);
  const span = WIDTH - LABEL_WIDTH - VALUE_WIDTH - 20;
  const height = TOP + bars.length * (BAR_HEIGHT + GAP) + 10;
  const rows = bars.map((bar, i) => {
    const y = TOP + i * (BAR_HEIGHT + GAP);
    const width = Math.max(1, Math.round((bar.value / max) * span));
    const text = y + BAR_HEIGHT / 2 + 4;
    return [
      `  <text x="${LABEL_WIDTH - 8}" y="${text}" text-anchor="end">${xml(bar.label)}</text>`,
      `  <rect x="${LABEL_WIDTH}" y="${y}" width="${width}" height="${BAR_HEIGHT}" fill="${bar.ours ? '#2563eb' : '#9ca3af'}"/>`,
      `  <text x="${LABEL_WIDTH + width + 6}" y="${text}">${bar.value.toLocaleString('en-US')}</text>`,
    ].join('\n');
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="system-ui, sans-serif" font-size="13">`,
    `  <rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `  <text x="${WIDTH / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${xml(title)} (${xml(unit)})</text>`,
    ...rows,
    '</svg>',
    '',
  ].join('\n');
}
