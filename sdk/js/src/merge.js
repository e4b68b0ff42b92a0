// Per-field last-writer-wins, as syncproto/merge.go (the server's rule) and
// sync.md §8.2 (a pulled change merged with local state).

import { HLC, compareBytes } from './hlc.js';

/**
 * @typedef {{value: any, hlc: string}} FieldState a field's value and the
 *   HLC of the write that set it ("" when the server sent none)
 * @typedef {{fields: Record<string, FieldState>, deleted: string}} MergeRecord
 * @typedef {{field: string, value: any, hlc: string, winnerHlc: string, incoming: boolean}} Loss
 * @typedef {{won: string[], same: string[], losses: Loss[], deleteApplied: boolean,
 *   deleteSame: boolean, status: 'applied'|'duplicate'|'stale'}} Outcome
 * @typedef {{seq?: number, entity: string, id: string, county?: string,
 *   fields?: Record<string, any>, hlcs?: Record<string, string>,
 *   hlc_groups?: Record<string, string[]>, deleted?: boolean, deleted_hlc?: string}} Change
 */

/**
 * The canonical JSON of a value (sync.md §5.1a): object keys sorted, no
 * white space, shortest numbers. Equal values have equal encodings.
 * @param {any} v
 * @returns {string}
 */
export function canonicalJSON(v) {
  if (v === undefined) return 'null';
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonicalJSON).join(',')}]`;
  const keys = Object.keys(v).filter((k) => v[k] !== undefined).sort(compareBytes);
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJSON(v[k])}`).join(',')}}`;
}

/** @param {string} h */
function nodeOf(h) {
  const p = HLC.tryParse(h);
  return p ? p.node : '';
}

/**
 * Merges one incoming field write into the stored state by the server's
 * rule (syncproto.Merge for one field): the greater HLC wins; equal HLCs
 * with different values fall back to the byte order of the canonical JSON
 * (the greater wins), so every delivery order converges.
 * @param {FieldState | undefined} cur the stored state, if any
 * @param {FieldState} inc the incoming write
 * @returns {{take: boolean, same: boolean, loss: Omit<Loss, 'field'> | null}}
 *   take: store the incoming write; loss: the value that did not survive
 */
export function mergeField(cur, inc) {
  const iv = canonicalJSON(inc.value);
  if (!cur) return { take: true, same: false, loss: null };
  const cv = canonicalJSON(cur.value);
  if (cur.hlc === inc.hlc && cv === iv) return { take: false, same: true, loss: null };
  const c = HLC.compare(inc.hlc, cur.hlc);
  const wins = c !== 0 ? c > 0 : compareBytes(iv, cv) > 0;
  if (wins) {
    // A node overwriting its own earlier value is an edit, not a conflict;
    // the same HLC carrying another value is one.
    const loss =
      nodeOf(cur.hlc) !== nodeOf(inc.hlc) || cur.hlc === inc.hlc
        ? { value: cur.value, hlc: cur.hlc, winnerHlc: inc.hlc, incoming: false }
        : null;
    return { take: true, same: false, loss };
  }
  return { take: false, same: false, loss: { value: inc.value, hlc: inc.hlc, winnerHlc: cur.hlc, incoming: true } };
}

/**
 * Applies one mutation stamped hlc to rec (syncproto.Merge): commutative,
 * associative and idempotent. A delete advances the tombstone; a deleted
 * record stays deleted. Fields are visited in sorted order.
 * @param {MergeRecord} rec mutated in place
 * @param {Record<string, any> | null} fields
 * @param {boolean} del
 * @param {string} hlc
 * @returns {Outcome}
 */
export function mergeMutation(rec, fields, del, hlc) {
  /** @type {Outcome} */
  const o = { won: [], same: [], losses: [], deleteApplied: false, deleteSame: false, status: 'duplicate' };
  rec.fields ??= {};
  rec.deleted ??= '';
  if (del) {
    const c = HLC.compare(hlc, rec.deleted);
    if (c > 0) {
      rec.deleted = hlc;
      o.deleteApplied = true;
    } else if (c === 0) {
      o.deleteSame = true;
    }
  } else {
    for (const name of Object.keys(fields ?? {}).sort(compareBytes)) {
      const inc = { value: /** @type {Record<string, any>} */ (fields)[name], hlc };
      const r = mergeField(rec.fields[name], inc);
      if (r.same) o.same.push(name);
      else if (r.take) {
        if (r.loss) o.losses.push({ field: name, ...r.loss });
        rec.fields[name] = inc;
        o.won.push(name);
      } else if (r.loss) o.losses.push({ field: name, ...r.loss });
    }
  }
  o.status = o.won.length > 0 || o.deleteApplied ? 'applied' : o.losses.length === 0 || o.deleteSame ? 'duplicate' : 'stale';
  return o;
}

/**
 * Expands a pulled change's hlc_groups (HLC → the fields it last wrote)
 * into per-field hlcs (sync.md §8.1). A field named in two groups takes the
 * greater HLC. Returns a new change without hlc_groups.
 * @param {Change} change
 * @returns {Change}
 */
export function expandChange(change) {
  /** @type {Record<string, string>} */
  const hlcs = { ...(change.hlcs ?? {}) };
  for (const [h, names] of Object.entries(change.hlc_groups ?? {})) {
    for (const name of names) {
      if (!(name in hlcs) || HLC.compare(h, hlcs[name]) > 0) hlcs[name] = h;
    }
  }
  const out = { ...change, hlcs };
  delete out.hlc_groups;
  return out;
}

/**
 * @typedef {{id: string, county?: string, fields?: Record<string, any>, hlc?: string,
 *   hlc_fields?: Record<string, string>, deleted?: boolean, deleted_hlc?: string}} CompactRecord
 * @typedef {{records: Record<string, CompactRecord[]>, nodes: string[], server_fields: string[],
 *   cursor: string, has_more: boolean, server_hlc: string}} CompactPage
 */

/**
 * Expands a compact pull page (form=compact, sync.md §8.4) into changes
 * with per-field hlcs, as a pull without it would carry them: entities in
 * sorted order, each entity's records in page order, seq 0. Throws on a
 * malformed page, as syncproto's CompactPage.Response does.
 * @param {CompactPage} page
 * @returns {Change[]}
 */
export function expandCompactPage(page) {
  const nodes = page.nodes ?? [];
  const server = new Set(page.server_fields ?? []);
  /** @param {string | undefined} h */
  const expand = (h) => {
    const m = /^([0-9]{1,15})-([0-9]{1,5})-([0-9]{1,9})$/.exec(h ?? '');
    const n = m ? Number(m[3]) : -1;
    const counter = m ? Number(m[2]) : -1;
    if (!m || n >= nodes.length || counter > 99999) throw new Error(`compact page: malformed hlc ${JSON.stringify(h)}`);
    const text = `${m[1].padStart(15, '0')}-${m[2].padStart(5, '0')}-${nodes[n]}`;
    if (!HLC.tryParse(text)) throw new Error(`compact page: malformed hlc ${JSON.stringify(h)}`);
    return text;
  };
  /** @type {Change[]} */
  const out = [];
  for (const entity of Object.keys(page.records ?? {}).sort(compareBytes)) {
    for (const r of page.records[entity]) {
      let county = '';
      if (r.county !== undefined) county = r.county;
      else if (r.fields && 'county' in r.fields && r.fields.county !== null) {
        if (typeof r.fields.county !== 'string') throw new Error(`compact page: ${entity} ${r.id}: county is not text`);
        county = r.fields.county;
      }
      if (r.deleted) {
        out.push({ seq: 0, entity, id: r.id, county, fields: {}, hlcs: {}, deleted: true, deleted_hlc: expand(r.deleted_hlc) });
        continue;
      }
      const main = r.hlc ? expand(r.hlc) : '';
      /** @type {Record<string, string>} */
      const hlcs = {};
      for (const name of Object.keys(r.fields ?? {})) {
        if (server.has(name)) continue;
        const own = r.hlc_fields?.[name];
        if (own !== undefined) hlcs[name] = expand(own);
        else if (main) hlcs[name] = main;
        else throw new Error(`compact page: ${entity} ${r.id}: field ${name} has no hlc`);
      }
      out.push({ seq: 0, entity, id: r.id, county, fields: { ...(r.fields ?? {}) }, hlcs, deleted: false });
    }
  }
  return out;
}

/**
 * Merges a pulled change into local state by sync.md §8.2: a field is
 * taken when the local one is absent or its HLC is not greater (an equal
 * HLC takes the server's value: the phone's own write coming back in
 * canonical form); a tombstone advances to the greater HLC. Fields the
 * change does not name are kept.
 * @param {MergeRecord} local mutated in place
 * @param {Change} change expanded (hlcs per field)
 * @returns {{taken: string[], kept: string[], deleted: boolean}}
 *   taken: fields set from the change; kept: local values that are newer
 */
export function mergeChange(local, change) {
  local.fields ??= {};
  local.deleted ??= '';
  /** @type {{taken: string[], kept: string[], deleted: boolean}} */
  const r = { taken: [], kept: [], deleted: false };
  if (change.deleted) {
    const h = change.deleted_hlc ?? '';
    if (HLC.compare(h, local.deleted) > 0) local.deleted = h;
    r.deleted = true;
    return r;
  }
  const hlcs = change.hlcs ?? {};
  for (const name of Object.keys(change.fields ?? {}).sort(compareBytes)) {
    const h = hlcs[name] ?? '';
    const cur = local.fields[name];
    if (!cur || HLC.compare(h, cur.hlc) >= 0) {
      local.fields[name] = { value: /** @type {Record<string, any>} */ (change.fields)[name], hlc: h };
      r.taken.push(name);
    } else {
      r.kept.push(name);
    }
  }
  return r;
}
