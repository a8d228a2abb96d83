import { bench } from 'vitest';
const U = /[%{}*?[\]\\\u0000-\u001f\u007f-\u009f\u2028\u2029\ud800-\udfff]/gu;
const NU = /[%{}*?[\]\\\u0000-\u001f\u007f-\u009f\u2028\u2029\ud800-\udfff]/;
let s = 'user:42';
bench('replace u', () => { s.replace(U, (c) => '%' + c.charCodeAt(0)); });
bench('test nonu', () => { NU.test(s) ? 1 : 0; });
bench('startsWith', () => { s.startsWith('tk.'); });
bench('concat', () => { const h = `ratelimit:{${s}}:${s}`; const a = h + ':monthly:' + '202611'; const b = h + ':burst:' + '202611151050'; return [ {a}, {b} ]; });
