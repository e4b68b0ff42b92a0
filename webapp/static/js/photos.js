// Photos: the original file from the camera, kept byte for byte (no canvas,
// no re-encoding: EXIF is evidence), with the position and accuracy the
// browser reported at capture (WGS-84) and a thumbnail from the local blob.
import { h, chinaTime, flagTitle, captureTitles, when } from './ui.js';
import * as geo from './geo.js';
import { photoRefusedMessage } from './errors.js';
import { sha256Hex } from '/app/sdk/fieldsync-sdk.js';

let urls = [];

/** withoutRepeats keeps of the files picked those whose bytes are neither
 *  among had (SHA-256s of the photos the item already has) nor an
 *  earlier one picked: the same photo picked twice, from the gallery or
 *  twice in one pick, is one photo. said is what to tell the inspector
 *  of those skipped ('' when none was). It reads the files' bytes: the
 *  roadside form, which lists and keeps a photo before reading them (the
 *  page may be killed meanwhile), compares the files instead (sameFile). */
export async function withoutRepeats(picked, had) {
  const seen = new Set(had);
  const files = [];
  for (const file of picked) {
    let sum = '';
    try { sum = await sha256Hex(new Uint8Array(await file.arrayBuffer())); } catch { /* unreadable: left to the save, which says why */ }
    if (sum && seen.has(sum)) continue;
    if (sum) seen.add(sum);
    files.push(file);
  }
  return { files, said: repeatsSaid(picked.length - files.length) };
}

/** sameFile says whether a and b are one file picked twice: the same
 *  name, size and time (a camera's next shot differs in each). */
export function sameFile(a, b) {
  return !!a && !!b && a.size === b.size && a.name === b.name && a.lastModified === b.lastModified && a.name !== undefined;
}

/** repeatsSaid is what the inspector is told of n photos skipped as
 *  picked twice ('' for none). */
export function repeatsSaid(n) {
  return n ? `同一张照片只需添加一次：已跳过重复选择的 ${n} 张。` : '';
}

/** revokeThumbs frees the object URLs of the previous screen's thumbnails. */
export function revokeThumbs() {
  for (const u of urls) URL.revokeObjectURL(u);
  urls = [];
}

async function head(blob, n) {
  const part = blob.slice(0, n);
  if (part.arrayBuffer) return new Uint8Array(await part.arrayBuffer());
  return new Promise((resolve, reject) => { // older WebViews: FileReader
    const r = new FileReader();
    r.onload = () => resolve(new Uint8Array(r.result));
    r.onerror = () => reject(r.error);
    r.readAsArrayBuffer(part);
  });
}

/** sniff names what the file really is: image/jpeg, image/png,
 *  image/heic, or null. */
export async function sniff(blob) {
  const b = await head(blob, 16);
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg';
  if (b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return 'image/png';
  const s = String.fromCharCode(...b.slice(4, 12));
  if (s.startsWith('ftyp') && /heic|heix|heim|heis|mif1|msf1/.test(s.slice(4))) return 'image/heic';
  return null;
}

// A file the camera made just now: the input's capture attribute opens
// the camera on phones, and its file is written at the shutter; a picture
// from the gallery (or a file chosen where there is no camera) is older.
// Only such a capture is signed with the device key (signed-captures.md).
const FRESH_MS = 2 * 60e3;

/** fromCamera says whether file was taken by the camera just now. */
export function fromCamera(file, now = Date.now()) {
  const t = file && typeof file.lastModified === 'number' ? file.lastModified : 0;
  return t > 0 && Math.abs(now - t) <= FRESH_MS;
}

/** photoFields are a new photo's fields: when and where it was taken,
 *  and whether the camera took it just now (camera). */
export async function captureFields(file) {
  const camera = fromCamera(file);
  const ct = await sniff(file);
  if (!ct) {
    const e = new Error('所选文件不是照片（只能是 JPEG、PNG 或 HEIC），请重新拍摄。');
    e.code = 'not_a_photo';
    throw e;
  }
  const pos = await geo.fix(6000);
  const f = { captured_at: chinaTime() };
  if (pos) {
    Object.assign(f, { lon: pos.lon, lat: pos.lat, crs: 'wgs84' });
    // Never 0: exactly 0 is what mock-location apps report (sync.md 10.1).
    if (pos.accuracy > 0) f.accuracy_m = Math.round(pos.accuracy * 10) / 10;
  }
  return { contentType: ct, fields: f, camera };
}

/** takePhoto stores file as a photo of fields' record and queues it. */
export async function takePhoto(c, file, fields, captured) {
  const cap = captured || (await captureFields(file));
  return c.takePhoto({ blob: file, contentType: cap.contentType, fields: { ...fields, ...cap.fields, content_type: cap.contentType }, camera: !!cap.camera });
}

/** failedUploads maps the id of each photo whose upload failed for good
 *  (the server refused its file: bad_image, hash_mismatch, …) to the
 *  error it failed with. Such an upload waits for the inspector (sync.md
 *  §10.4): it is not sent again, so it is not waiting to be sent. */
export async function failedUploads(c) {
  const jobs = await c.uploads();
  return new Map(jobs.filter((j) => j.state === 'failed').map((j) => [j.photoId, j.error || {}]));
}

/** refusal is why photo p's file will not reach the server — its upload
 *  failed for good (failed: failedUploads), or the server flagged it
 *  refused — or null. */
/** photosWaiting is the number of photos a client's status (sdk
 *  status()) has still to send: those whose upload the server refused
 *  for good are not (they wait for the inspector, not for a network). */
export function photosWaiting(s) {
  return Math.max(0, (s.pendingPhotos || 0) - (s.failedPhotos || 0));
}

export function refusal(p, failed) {
  if (p.fields.uploaded === true) return null;
  const e = failed?.get(p.id);
  if (e) return e;
  const flag = p.fields.flags && typeof p.fields.flags === 'object' ? p.fields.flags.refused : null;
  return flag ? (typeof flag === 'object' ? flag : {}) : null;
}

/** photoTile shows a photo: from the local original while the phone has
 *  it, else the server's thumbnail (a colleague's photo, or an original
 *  purged after upload), its upload state and its evidence flags. refused
 *  (refusal) says the server refused its file: it is to be taken again,
 *  not waiting to be sent — unless locked (what it belongs to can no
 *  longer be changed on the phone). */
/** What a photo taken without the phone's position lacks. */
export const NO_POSITION = '拍摄时未获取到手机位置：督查室无法核对拍摄地点与点位的距离。可打开定位、到开阔处后重拍，或在备注中说明。';

/** nth names photo i of all, what they show (an item's label), when
 *  there are several: a screen reader said 照片：渣土运输100%密闭 for each
 *  alike (phone probe). */
export function nth(what, i, all) {
  return Array.isArray(all) && all.length > 1 ? `${what}（第 ${i + 1} 张，共 ${all.length} 张）` : what;
}

export function photoTile(c, p, refused = null, locked = false, what = '') {
  // Named with what it shows (the item's label), as the console names
  // its photos: seventeen tiles read 照片 alike (a11y probe).
  const alt = what ? `照片：${what}` : '照片';
  const img = h('img', { alt });
  const flags = p.fields.flags && typeof p.fields.flags === 'object' ? Object.keys(p.fields.flags) : [];
  const state = p.fields.uploaded === true ? (flags.length ? '⚠ ' + flags.map((k) => flagTitle(k, p.fields.flags[k])).join('、') : '已上传')
    : refused ? (locked ? '✕ 拒收' : '✕ 拒收，需重拍') : '待上传';
  const tile = h('div', { class: 'thumb' + (flags.length && !refused ? ' flagged' : '') + (refused ? ' refused' : ''),
    title: refused ? photoRefusedMessage(refused, locked) : state,
    dataset: { photo: p.id, uploaded: String(p.fields.uploaded === true), ...(refused ? { refused: refused.code || 'refused' } : {}) } }, img,
    // On the tile, what fits: one flag by its name (on two lines at most),
    // several by their number; a tap shows them all (field probe: a list
    // cut at 390 px, whole only in a title a touch screen never shows).
    h('span', { class: flags.length && !refused ? 'flags' : null }, flags.length > 1 && !refused && p.fields.uploaded === true ? `⚠ ${flags.length} 项疑点，点按查看` : state));
  // The server's check of the capture signature (signed-captures.md).
  const cap = p.fields.capture && typeof p.fields.capture === 'object' ? p.fields.capture.status : '';
  if (cap) {
    tile.dataset.capture = cap;
    tile.title += '；' + (captureTitles[cap] || cap);
    tile.append(h('b', { class: 'cap' + (cap === 'signed' ? ' ok' : '') }, cap === 'signed' ? '✓ 应用拍摄' : '非应用拍摄'));
  }
  // Taken without the phone's position (no fix within its wait): said on
  // the tile, as the office relies on the distance to the site.
  const placed = typeof p.fields.lat === 'number' && typeof p.fields.lon === 'number';
  if (!placed) {
    tile.dataset.nopos = 'true';
    tile.title += '；' + NO_POSITION;
    tile.append(h('b', { class: 'nopos' }, '无手机位置'));
  }
  // A tap shows the photo whole, with what the tile can only hint at.
  tile.setAttribute('role', 'button');
  tile.tabIndex = 0;
  const open = () => {
    const lines = [p.fields.captured_at ? '拍摄于 ' + when(p.fields.captured_at) : '', refused ? photoRefusedMessage(refused, locked) : state,
      cap ? captureTitles[cap] || cap : '', placed ? '' : NO_POSITION, tile.dataset.shown === 'thumbnail' ? '（缩略图：原图已上传到服务器）' : ''].filter(Boolean);
    showPhoto(img.src || '', lines, alt);
  };
  tile.addEventListener('click', open);
  tile.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); open(); } });
  c.photoImage(p.id).then((got) => {
    // Its name stays, said before why there is no picture.
    if (!got) { img.replaceWith(h('p', { class: 'nothumb' }, h('span', { class: 'sr-only' }, alt + '，'), refused ? '照片文件已不在手机上' : '照片在服务器上，联网后显示')); return; }
    const b = got.bytes;
    const blob = b instanceof Blob ? b : new Blob([b], { type: got.contentType || p.fields.content_type || 'image/jpeg' });
    if (!got.original) tile.dataset.shown = 'thumbnail';
    const u = URL.createObjectURL(blob);
    urls.push(u);
    img.src = u;
  }).catch(() => { img.alt = '照片读取失败'; });
  return tile;
}

/** showPhoto shows the picture at src over the whole screen, with lines
 *  of text under it, until a tap, 关闭, Esc or Back. */
export function showPhoto(src, lines, alt = '照片') {
  document.getElementById('photo-viewer')?.remove();
  // Focus goes into the viewer and stays there (its one button), and back
  // to what opened it when it closes (a11y probe: Tab walked on through
  // the form hidden under it).
  const opener = document.activeElement;
  const close = () => {
    viewer.remove();
    document.removeEventListener('keydown', onKey);
    window.removeEventListener('hashchange', close);
    if (opener instanceof HTMLElement && opener.isConnected) opener.focus();
    else {
      // The tile that opened it drawn anew meanwhile (a sync): the page's
      // heading, not the body (verification probe).
      const heading = document.querySelector('#view h1');
      if (heading instanceof HTMLElement) { heading.tabIndex = -1; heading.focus({ preventScroll: true }); }
    }
  };
  const onKey = (e) => {
    if (e.key === 'Escape') close();
    else if (e.key === 'Tab') { e.preventDefault(); shut.focus(); }
  };
  const shut = h('button', { type: 'button', class: 'close', onclick: close }, '关闭');
  const viewer = h('div', { id: 'photo-viewer', class: 'viewer', role: 'dialog', 'aria-modal': 'true', 'aria-label': '查看照片', onclick: close },
    shut,
    // Without a picture (not on the phone, not yet fetched): its text.
    src ? h('img', { src, alt }) : h('p', { class: 'nothumb' }, '照片不在手机上，联网后可查看'),
    lines.length ? h('div', { class: 'lines' }, lines.map((l) => h('p', {}, l))) : null);
  document.addEventListener('keydown', onKey);
  window.addEventListener('hashchange', close);
  document.body.append(viewer);
  shut.focus();
}
