// Removes from the declarations tsc made (in the directory given) every
// class member whose doc comment says @internal. tsc's own stripInternal
// does not reach declarations made from JavaScript sources, and the
// client's internals (its outbox steps, its tokens, its caches) are not
// the API a mobile developer is to build on (API.md is).
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

/** @param {string} dir */
function walk(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) walk(path);
    else if (e.name.endsWith('.d.ts')) strip(path);
  }
}

/** @param {string} path */
function strip(path) {
  const text = readFileSync(path, 'utf8');
  const file = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
  /** @type {[number, number][]} */
  const cuts = [];
  /** @param {ts.Node} node */
  const visit = (node) => {
    if (ts.isClassDeclaration(node)) {
      for (const m of node.members) {
        const comments = ts.getLeadingCommentRanges(text, m.getFullStart()) ?? [];
        if (comments.some((c) => text.slice(c.pos, c.end).includes('@internal'))) {
          // From the end of the member before (its line break kept) to
          // this one's end: its comment and its declaration go together.
          cuts.push([m.getFullStart(), m.getEnd()]);
        }
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  if (cuts.length === 0) return;
  let out = text;
  for (const [from, to] of cuts.reverse()) out = out.slice(0, from) + out.slice(to);
  writeFileSync(path, unusedImportsDropped(out));
}

/**
 * Drops the named imports nothing refers to any more: an internal member
 * taken out may have been the only user of a Node type (FileStorage's
 * journal lines are Buffers), and the import left would make every app
 * that imports the declarations need @types/node.
 * @param {string} text
 */
function unusedImportsDropped(text) {
  return text.replace(/^import \{ ([\w, ]+) \} from '[^']+';\n/gm, (line, names) => {
    const rest = text.replace(line, '');
    const used = names.split(',').map((/** @type {string} */ n) => n.trim()).filter((/** @type {string} */ n) => new RegExp(`\\b${n}\\b`).test(rest));
    return used.length === 0 ? '' : line;
  });
}

walk(process.argv[2] ?? 'types');
