// The conformance vectors shared with syncproto (Go): the JS HLC, merge and
// hlc_groups expansion must answer exactly what the Go code answers.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { Clock, HLC, cleanLine, cleanText, expandChange, expandCompactPage, isFreeText, isOneLine, mergeMutation } from '../src/index.js';

const vectors = JSON.parse(fs.readFileSync(new URL('../../../syncproto/testdata/conformance.json', import.meta.url), 'utf8'));

test('hlc parse', () => {
  for (const c of vectors.hlc_parse) {
    const p = HLC.tryParse(c.in);
    assert.equal(p !== null, c.ok, `parse ${JSON.stringify(c.in)}`);
    if (p) {
      assert.deepEqual([p.wall, p.counter, p.node], [c.wall, c.counter, c.node], c.in);
      assert.equal(p.toString(), c.in, 'canonical round trip');
    }
  }
});

test('hlc compare', () => {
  for (const c of vectors.hlc_compare) {
    assert.equal(HLC.compare(c.a, c.b), c.want, `${c.a} vs ${c.b}`);
    assert.equal(HLC.compare(HLC.parse(c.a), HLC.parse(c.b)), c.want);
  }
});

test('hlc format', () => {
  for (const c of vectors.hlc_format) assert.equal(HLC.format(c), c.want);
});

/** @param {any} c */
const clockOf = (c) => new Clock(c.node, { now: () => c.pt, last: c.last });

test('hlc next (clock.now with a fixed physical time)', () => {
  for (const c of vectors.hlc_next) assert.equal(clockOf(c).now().toString(), c.want, JSON.stringify(c));
});

test('hlc observe', () => {
  for (const c of vectors.hlc_observe) {
    assert.equal(clockOf(c).observe(HLC.parse(c.remote ?? '')).toString(), c.want, JSON.stringify(c));
  }
});

test('per-field merge', () => {
  for (const c of vectors.merge) {
    const rec = structuredClone(c.start);
    const outcomes = c.mutations.map((/** @type {any} */ m) => {
      const o = mergeMutation(rec, m.fields ?? null, !!m.delete, m.hlc);
      return {
        status: o.status,
        won: [...o.won].sort(),
        same: [...o.same].sort(),
        losses: o.losses.map((l) => ({ field: l.field, value: l.value, hlc: l.hlc, winner_hlc: l.winnerHlc, incoming: l.incoming })),
        delete_applied: o.deleteApplied,
        delete_same: o.deleteSame,
      };
    });
    assert.deepEqual(outcomes, c.outcomes, c.name);
    assert.deepEqual(rec, c.record, c.name);
  }
});

test('hlc_groups expansion', () => {
  for (const c of vectors.expand) {
    const ch = expandChange(c.change);
    assert.deepEqual(ch.hlcs, c.want_hlcs, c.name);
    assert.equal('hlc_groups' in ch, false);
  }
});

test('compact page expansion', () => {
  for (const c of vectors.compact) {
    if (!c.ok) {
      assert.throws(() => expandCompactPage(c.page), /compact page/, c.name);
      continue;
    }
    assert.deepEqual(expandCompactPage(c.page), c.want_changes, c.name);
  }
});

for (const [name, ranges, valid, clean] of /** @type {Array<[string, [number, number][], (s: string) => boolean, (s: string) => string]>} */ ([
  ['free text (isFreeText, cleanText)', vectors.free_text_refused, isFreeText, cleanText],
  ['one line (isOneLine, cleanLine)', vectors.one_line_refused, isOneLine, cleanLine],
])) {
  test(`${name}: the code points the server refuses, and the clean function takes out exactly those`, () => {
    const refused = (/** @type {number} */ c) => ranges.some(([lo, hi]) => c >= lo && c <= hi);
    let n = 0;
    for (let c = 0; c <= 0x10ffff; c++) {
      if (c >= 0xd800 && c <= 0xdfff) continue;
      const s = 'a' + String.fromCodePoint(c) + 'b';
      const want = refused(c);
      if (valid(s) === want) assert.fail(`U+${c.toString(16)}: ${valid.name} ${want}, the server ${want ? 'refuses' : 'takes'} it`);
      if (clean(s) !== (want ? 'ab' : s)) assert.fail(`U+${c.toString(16)}: ${clean.name} gave ${JSON.stringify(clean(s))}`);
      if (want) n++;
    }
    assert.ok(n > 60, `${n} refused code points`);
  });
}
