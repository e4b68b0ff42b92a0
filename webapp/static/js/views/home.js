// Home: what waits to be sent, the last sync, returned inspections,
// drafts, open findings (overdue first), superseded edits, sign-out.
import { h, badges, when, now, bytes, chinaDate, chinaTime, daysBetween, statusNames, severityNames, findingStatusNames, toast, store, foldUser, focusOf, refocus, resumeFocus } from '../ui.js';
import { message, rejectedMessage, photoRefusedMessage } from '../errors.js';
import { emissionStages, fuels, aftertreatments, vehicleActions, siteKindChoices } from '../vocab.js';
import { maxLen, ranges, tooLong, outOfRange } from '../limits.js';
import { sentBack } from './finding.js';
import { photosWaiting } from '../photos.js';
import { unsavedVehicle } from './vehicle.js';

// The photo uploads that failed for good (the server refused the file:
// sync.md §10.4), as home last read them (client.uploads()). They wait for
// the inspector — a new photo, or 移除 — and are never sent again by
// themselves: not counted as waiting to be sent.
let failedJobs = [];

async function readFailed(c) {
  failedJobs = (await c.uploads()).filter((j) => j.state === 'failed');
  return failedJobs;
}

/** updateStatus refreshes the sync card in place. */
export function updateStatus(app) {
  const card = document.getElementById('sync-card');
  if (!card || !app.client) return;
  // The focus kept on the card's control (立即同步), as a page drawn again keeps it.
  const focused = focusOf(card);
  const next = syncCard(app);
  card.replaceWith(next);
  if (focused) refocus(next, focused);
  resumeFocus(next);
  // An upload failed (or was retried, or given up) since home was drawn:
  // drawn again, with its list of refused photos.
  if (app.client.status().failedPhotos !== failedJobs.length) app.refresh();
}

function syncCard(app) {
  const s = app.client.status();
  const last = s.lastSync;
  let lastText = '尚未同步';
  if (last?.ok) lastText = `上次同步：${when(last.at)}，成功`;
  // After a failed sync, since when the server has had nothing from here.
  else if (last) lastText = `上次同步：${when(last.at)}，未完成；${last.okAt ? `上次成功：${when(last.okAt)}` : '尚未成功同步过'}`;
  const running = s.syncing || !!app.progress;
  // Refused photos are not waiting: they are listed on their own.
  const failed = s.failedPhotos || 0;
  const failedBytes = failedJobs.reduce((n, j) => n + Math.max(0, j.size - (j.offset || 0)), 0);
  return h('section', { class: 'card', id: 'sync-card' },
    h('p', { class: 'mute small' }, '等待上传'),
    h('div', { class: 'stats' },
      h('div', {}, h('b', { id: 'pending-records' }, s.pendingRecords), '条记录'),
      h('div', {}, h('b', { id: 'pending-photos' }, photosWaiting(s)), '张照片'),
      h('div', {}, h('b', { id: 'pending-bytes' }, bytes(Math.max(0, s.pendingBytes - failedBytes))), '照片大小')),
    h('p', { class: 'mute', id: 'last-sync', dataset: { ok: last ? String(!!last.ok) : '' } }, lastText),
    failed ? h('p', { class: 'err', id: 'refused-count' }, `${failed} 张照片被服务器拒收，不会上传（见下方“被拒收的照片”）。`) : null,
    // Work waiting on a phone whose browser may clear the app's storage
    // when space runs short (app.persisted: navigator.storage.persist
    // refused).
    app.persisted === false && (s.pendingRecords > 0 || photosWaiting(s) > 0)
      ? h('p', { class: 'notice small', id: 'not-persisted' }, '浏览器没有允许本应用长期保存数据：手机空间不足时，未上传的记录和照片可能被浏览器清除。请尽快联网同步；把本应用“添加到主屏幕”后通常可长期保存。')
      : null,
    last && !last.ok && last.error && !app.sessionEnded() ? h('p', { class: 'err' }, message(last.error)) : null,
    // Its place kept while no sync runs (idle: not seen): the page below
    // moved at every sync (verification probe).
    h('div', { class: 'progress' + (running ? '' : ' idle') }, h('i', {})),
    h('p', { class: 'mute small', dataset: { progressText: '1' } }),
    app.sessionEnded() ? h('a', { class: 'btn primary block', id: 'sync-now', href: '#/login' }, '重新登录后同步')
      : h('button', { class: 'primary block', id: 'sync-now', disabled: running, onclick: () => app.sync(true) }, running ? '正在同步…' : '立即同步'));
}

// A record time more than this ahead of now was written by a fast clock.
const AHEAD_MS = 10 * 60e3;

/** aheadOfNow says whether record time t is ahead of now (the clock the
 *  last sync corrected) by more than AHEAD_MS. */
function aheadOfNow(t) {
  const ms = t ? Date.parse(t) : NaN;
  return Number.isFinite(ms) && ms > now() + AHEAD_MS;
}

/** The inspector's roadside checks, as read after the last sync (ownChecksOf). */
let ownChecks = { key: '', checks: [] };

/** ownChecksOf returns the inspector's live roadside checks, read again
 *  only after a sync or a change saved (or for another user): a time ahead shows once the
 *  sync corrected the clock, and home, drawn at every tap, does not read
 *  every check of the county each time. */
async function ownChecksOf(c) {
  const s = c.status();
  const key = `${c.user?.id ?? ''}@${s.lastSync?.at ?? ''}/${s.pendingChanges}`;
  if (ownChecks.key !== key) {
    ownChecks = { key, checks: await c.list('vehicle_check', (v) => (!v.fields.created_by || v.fields.created_by === c.user?.id) && !v.fields.voided_at) };
  }
  return ownChecks.checks;
}

/** aheadText says how far record time t is ahead of now. */
function aheadText(t) {
  const ms = Date.parse(t) - now();
  const hours = Math.round(ms / 3600e3);
  return hours >= 1 ? `（比现在晚约 ${hours} 小时）` : `（比现在晚约 ${Math.max(1, Math.round(ms / 60e3))} 分钟）`;
}

// The open findings shown before 显示全部 is tapped: the first, by deadline.
const FINDINGS_SHOWN = 30;
// 显示全部 was tapped: kept while the app runs, as syncs draw home again.
let allFindings = false;

export async function render(app) {
  const c = app.client;
  const [inspections, findings, sites, templates, superseded, rejected, failed] = await Promise.all([
    c.list('inspection'), c.list('finding'), c.list('site'), c.list('checklist_template'), c.superseded(), c.rejected(), readFailed(c)]);
  // The records of the refused changes still on the phone: a record whose
  // create was refused is not (the SDK takes back what the server never had).
  const onPhone = new Map((await Promise.all(rejected.map((r) => c.get(r.entity, r.id)))).filter(Boolean).map((x) => [x.entity + '/' + x.id, x]));
  // The refused photos, the other photos of their items (taken again?)
  // and their roadside checks.
  const refused = (await Promise.all(failed.map((j) => c.get('photo', j.photoId)))).filter(Boolean);
  const itemOf = (p) => p.fields.inspection_id + '/' + p.fields.item_key;
  const items = new Set(refused.filter((p) => p.fields.inspection_id && p.fields.item_key).map(itemOf));
  const photos = items.size ? await c.list('photo', (p) => items.has(itemOf(p))) : [];
  for (const p of refused) if (!photos.some((x) => x.id === p.id)) photos.push(p);
  const checkIds = new Set(refused.map((p) => p.fields.vehicle_check_id).filter(Boolean));
  const checks = checkIds.size ? await c.list('vehicle_check', (v) => checkIds.has(v.id)) : [];
  const siteName = Object.fromEntries(sites.map((s) => [s.id, s.fields.name]));
  const tplTitle = Object.fromEntries(templates.map((t) => [t.fields.template_id + '@' + t.fields.version, t.fields.title]));
  const mine = inspections.filter((i) => !c.user || !i.fields.created_by || i.fields.created_by === c.user.id || i.pending.length);
  const inspLink = (i, extra) => h('li', {}, h('a', { class: 'item', href: '#/inspection/' + i.id, dataset: { id: i.id } },
    h('div', { class: 'name' }, siteName[i.fields.site_id] || '点位', ' ', h('span', { class: 'badge ' + i.fields.status }, statusNames[i.fields.status] || i.fields.status)),
    h('div', { class: 'mute small' }, tplTitle[i.fields.template_id + '@' + i.fields.template_version] || i.fields.template_id, ' · ', when(i.fields.started_at)),
    extra));

  const returned = mine.filter((i) => i.fields.status === 'returned');
  const drafts = mine.filter((i) => i.fields.status === 'draft').sort((a, b) => String(b.fields.started_at).localeCompare(String(a.fields.started_at)));
  const recent = mine.filter((i) => i.fields.status === 'submitted' || i.fields.status === 'approved')
    .sort((a, b) => String(b.fields.reviewed_at || b.fields.finished_at || '').localeCompare(String(a.fields.reviewed_at || a.fields.finished_at || ''))).slice(0, 5);
  const today = chinaDate();
  // A colleague's inspection still in their hands (a draft, or returned
  // to them) is theirs to change: its findings are not yet to rectify.
  const inspById = Object.fromEntries(inspections.map((i) => [i.id, i]));
  // One whose inspection is not on the phone (deleted, its findings left
  // behind) is no one's to rectify: the console lists it nowhere either.
  const settled = (f) => {
    const i = inspById[f.fields.inspection_id];
    return !!i && (mine.includes(i) || i.fields.status === 'submitted' || i.fields.status === 'approved');
  };
  /** heldBy says whose hands an inspection of the inspector's is in, for
   *  its findings: '所属检查未提交' (a draft: the office counts them
   *  nowhere yet), '所属检查已退回' (returned: counted, the inspection to
   *  correct), or '' (with the office). */
  const heldBy = (i) => !i ? '' : i.fields.status === 'draft' ? '所属检查未提交' : i.fields.status === 'returned' ? '所属检查已退回' : '';
  // Sent back by an office first, then by deadline (overdue first).
  const open = findings.filter((f) => (f.fields.status === 'open' || f.fields.status === 'rectifying') && settled(f))
    .sort((a, b) => (sentBack(b.fields) - sentBack(a.fields)) || (a.fields.deadline || '9999').localeCompare(b.fields.deadline || '9999'));
  // Reported rectified, waiting for the office: the latest report first.
  const waiting = findings.filter((f) => f.fields.status === 'rectified' && inspById[f.fields.inspection_id])
    .sort((a, b) => (b.hlcs?.status || '').localeCompare(a.hlcs?.status || ''));
  // Of those, the office can verify the ones of approved inspections.
  const ready = waiting.filter((f) => inspById[f.fields.inspection_id].fields.status === 'approved').length;
  const inspSite = Object.fromEntries(inspections.map((i) => [i.id, siteName[i.fields.site_id]]));
  // The inspector's records whose times are ahead of now, by the clock
  // the last sync corrected: saved while the phone's clock ran fast (set
  // a day ahead, offline), they count in a later day, and the app drew
  // them nowhere (clock probe: a check dated tomorrow left 今天已检).
  const aheadInsp = mine.filter((i) => aheadOfNow(i.fields.started_at) || aheadOfNow(i.fields.finished_at));
  const aheadChecks = (await ownChecksOf(c)).filter((v) => aheadOfNow(v.fields.checked_at));

  const u = c.user || {};
  return h('div', {},
    h('h1', {}, `你好，${u.display_name || u.username || ''}`),
    app.volatile ? h('p', { class: 'notice' }, '此浏览器不能保存数据：关闭页面前请先同步。') : null,
    syncCard(app),
    refusedPhotosCard(app, failed, photos, checks, inspections, findings, templates, siteName, tplTitle),
    rejectedCard(app, rejected, onPhone, inspections, findings, templates, siteName, tplTitle),
    aheadInsp.length + aheadChecks.length ? h('section', { class: 'card', id: 'ahead' }, h('h2', {}, `时间晚于现在的记录（${aheadInsp.length + aheadChecks.length}）`),
      h('p', { class: 'notice small' }, '保存这些记录时手机时钟快了：记下的时间晚于现在，会被算进以后的日期。请在手机设置中打开“自动设置日期和时间”，并告诉督查室这些记录的实际时间（督查室的页面上也会提示时间可疑）。'),
      h('ul', { class: 'list' },
        aheadInsp.map((i) => {
          const t = aheadOfNow(i.fields.started_at) ? i.fields.started_at : i.fields.finished_at;
          return inspLink(i, h('div', { class: 'warn small' }, '记录的时间：', when(t), aheadText(t)));
        }),
        aheadChecks.map((v) => h('li', { dataset: { check: v.id } }, h('div', { class: 'item' },
          h('div', { class: 'name' }, '路检 ', v.fields.plate || '', v.fields.checkpoint ? ' · ' + v.fields.checkpoint : ''),
          h('div', { class: 'warn small' }, '检查时间：', when(v.fields.checked_at), aheadText(v.fields.checked_at))))))) : null,
    returned.length ? h('section', { class: 'card', id: 'returned' }, h('h2', {}, `被退回的检查（${returned.length}）`),
      h('ul', { class: 'list' }, returned.map((i) => inspLink(i, h('div', { class: 'comment' }, '退回意见：', i.fields.review_comment || '（无）'))))) : null,
    drafts.length ? h('section', { class: 'card', id: 'drafts' }, h('h2', {}, `未提交的草稿（${drafts.length}）`),
      h('ul', { class: 'list' }, drafts.map((i) => inspLink(i)))) : null,
    h('section', { class: 'card', id: 'findings' }, h('h2', {}, `待整改问题（${open.length}）`),
      open.length ? h('ul', { class: 'list' }, (allFindings ? open : open.slice(0, FINDINGS_SHOWN)).map((f) => {
        const d = f.fields.deadline;
        const late = d ? daysBetween(d, today) : 0;
        const back = sentBack(f.fields);
        // Of the inspector's own inspection in their hands (a draft, which
        // the office counts nowhere yet; or returned, which it counts, to
        // be corrected and sent again): said (cycle probe).
        const held = heldBy(inspById[f.fields.inspection_id]);
        return h('li', { class: back ? 'sent-back' : '' }, h('a', { class: 'item', href: '#/finding/' + f.id, dataset: { finding: f.id, status: f.fields.status, sentBack: back ? '1' : '', held } },
          h('div', { class: 'name' }, back ? [h('span', { class: 'badge returned' }, '督查退回'), ' '] : null, f.fields.description || '问题'),
          held ? h('div', { class: 'small held' }, h('span', { class: 'badge returned' }, held),
            held === '所属检查未提交' ? ' 督查尚未收到，不计入督查的统计' : ' 请按退回意见修改后重新提交') : null,
          back ? h('div', { class: 'comment small' }, '督查意见：', f.fields.verify_comment) : null,
          h('div', { class: 'small' },
            late > 0 ? h('span', { class: 'badge overdue' }, `逾期 ${late} 天`) : d ? h('span', { class: 'badge' }, late === 0 ? '今天到期' : `还剩 ${-late} 天`) : null,
            ' ', d ? '期限 ' + d : '无期限', ' · ', severityNames[f.fields.severity] || '', ' · ', findingStatusNames[f.fields.status] || '',
            inspSite[f.fields.inspection_id] ? ' · ' + inspSite[f.fields.inspection_id] : '')));
      })) : h('p', { class: 'mute' }, '没有待整改的问题。'),
      !allFindings && open.length > FINDINGS_SHOWN ? h('button', { class: 'block', id: 'all-findings', onclick: () => { allFindings = true; app.render(); } },
        `显示全部 ${open.length} 个问题`) : null),
    waiting.length ? h('section', { class: 'card', id: 'findings-rectified' }, h('h2', {}, `已整改，待核实（${ready}${waiting.length > ready ? `，另有 ${waiting.length - ready} 个待所属检查审核` : ''}）`),
      h('ul', { class: 'list' }, waiting.slice(0, FINDINGS_SHOWN).map((f) => h('li', {}, h('a', { class: 'item', href: '#/finding/' + f.id, dataset: { finding: f.id, status: 'rectified' } },
        h('div', { class: 'name' }, f.fields.description || '问题'),
        // Verified only once its inspection is approved (the console
        // says 暂不能核实): said, not counted as waiting for the office.
        h('div', { class: 'small' }, badges(h('span', { class: 'badge fs-rectified' },
          inspById[f.fields.inspection_id]?.fields.status === 'approved' ? '已整改（待核实）' : '已整改（所属检查审核通过后才能核实）'),
          f.pending.length ? h('span', { class: 'badge pending' }, '待上传') : null),
          inspSite[f.fields.inspection_id] ? ' · ' + inspSite[f.fields.inspection_id] : ''),
        f.fields.rectification_note ? h('div', { class: 'mute small' }, '整改说明：', f.fields.rectification_note) : null))))) : null,
    superseded.length ? h('section', { class: 'card', id: 'superseded' }, h('h2', {}, `被覆盖的修改（${superseded.length}）`),
      h('p', { class: 'mute small' }, '这些修改与另一台手机（同事的，或您自己的另一台）或督查室更晚的修改或删除冲突，以更晚的为准：'),
      h('ul', { class: 'list' }, superseded.slice(0, 20).map((s) => s.code === 'record_deleted'
        // The record went with another's delete: nothing to open.
        ? h('li', { class: 'item' }, fieldLabel(s, inspections, templates), '：记录已被删除，您填的“', show(s.value, s.field, s.entity), '”随之作废')
        : h('li', { class: 'item' },
          h('a', { href: s.entity === 'inspection' ? '#/inspection/' + s.id : '#/' }, fieldLabel(s, inspections, templates)), '：您填的“', show(s.value, s.field, s.entity), '”已被覆盖'))),
      h('button', { class: 'block', onclick: async () => { await c.dismiss(...superseded); app.render(); } }, '知道了')) : null,
    recent.length ? h('section', { class: 'card', id: 'recent' }, h('h2', {}, '最近提交'), h('ul', { class: 'list' }, recent.map((i) => inspLink(i)))) : null,
    h('section', { class: 'card' },
      h('p', { class: 'mute small' }, `账号 ${u.username || ''} · 设备编号 …${c.deviceId.slice(-8)}`),
      h('a', { class: 'btn block', href: '#/password', id: 'change-password' }, '修改密码'),
      h('button', { class: 'danger block', id: 'sign-out', onclick: () => signOut(app) }, '退出登录')));
}

/** inspectionText names inspection id as the inspector knows it: its
 *  site, checklist and day. */
function inspectionText(id, inspections, siteName, tplTitle) {
  const i = inspections.find((x) => x.id === id);
  if (!i) return '';
  return [siteName[i.fields.site_id] || '点位', tplTitle[i.fields.template_id + '@' + i.fields.template_version], when(i.fields.started_at)]
    .filter(Boolean).join(' · ');
}

// refusedPhotosCard lists the photos whose file the server refused for
// good (their uploads failed: failedJobs), until the inspector takes the
// item's photo again and removes them: which inspection and item, or
// which finding or roadside check, each was of, why it was refused, and
// where to take it again.
function refusedPhotosCard(app, failed, photos, checks, inspections, findings, templates, siteName, tplTitle) {
  if (!failed.length) return null;
  const c = app.client;
  const act = async (fn) => {
    try { await fn(); } catch (err) { toast(message(err), true, 'error'); }
    app.render();
  };
  return h('section', { class: 'card', id: 'refused-photos' },
    h('h2', {}, `被拒收的照片（${failed.length}）`),
    h('p', { class: 'mute small' }, '服务器拒收了这些照片的文件，手机不会再上传，也不算在“等待上传”里。请按每张照片下的说明重拍（已提交的检查须等督查室退回后才能重拍）；重拍后可点“移除”，从手机上删去被拒收的文件（照片记录留在服务器上，督查室能看到被拒收的原因）。'),
    h('ul', { class: 'list' }, failed.map((j) => {
      const p = photos.find((x) => x.id === j.photoId);
      const f = p?.fields || {};
      // locked: what it belongs to can no longer be changed on the phone
      // (an inspection submitted or approved, a rectification verified):
      // no camera there, nothing to retake until the office returns it.
      let where = '照片', href = null, retaken = false, locked = false;
      if (f.inspection_id) {
        locked = ['submitted', 'approved'].includes(inspections.find((x) => x.id === f.inspection_id)?.fields.status);
        const item = f.item_key ? fieldLabel({ field: 'answers.' + f.item_key, id: f.inspection_id }, inspections, templates) : '';
        where = [inspectionText(f.inspection_id, inspections, siteName, tplTitle) || '检查记录', item ? '检查项：' + item : ''].filter(Boolean).join(' · ');
        href = '#/inspection/' + f.inspection_id;
        retaken = !!f.item_key && photos.some((x) => x.id !== p.id && !failed.some((o) => o.photoId === x.id) &&
          x.fields.inspection_id === f.inspection_id && x.fields.item_key === f.item_key);
      } else if (f.finding_id) {
        const fd = findings.find((x) => x.id === f.finding_id);
        locked = fd?.fields.status === 'verified';
        where = '整改照片 · ' + clip(String(fd?.fields.description || '整改问题'));
        href = '#/finding/' + f.finding_id;
      } else if (f.vehicle_check_id) {
        const v = checks.find((x) => x.id === f.vehicle_check_id);
        where = '路检照片' + (v ? ' · 车牌 ' + v.fields.plate + ' · ' + when(v.fields.checked_at) : '');
        href = '#/vehicle';
      }
      return h('li', { class: 'item', dataset: { photo: j.photoId, code: j.error?.code || '' } },
        h('p', { class: 'name where' }, href ? h('a', { href }, where) : where),
        retaken ? h('p', { class: 'mute small' }, '照片被服务器拒收，已重拍；可点“移除”删去被拒收的文件。')
          : h('p', { class: 'err' }, photoRefusedMessage(j.error, locked)),
        h('p', { class: 'mute small' }, f.captured_at ? '拍摄于 ' + when(f.captured_at) + ' · ' : '', bytes(j.size)),
        href && !retaken && !locked ? h('a', { class: 'btn primary', href, dataset: { retake: j.photoId } }, '去重拍') : null,
        // Refused on the way (a hash that did not match): sent again whole.
        ['hash_mismatch', 'upload_failed'].includes(j.error?.code) ? [' ', h('button', { dataset: { retry: j.photoId }, onclick: () => act(async () => {
          await c.retryUpload(j.photoId);
          app.sync(false);
        }) }, '重新上传')] : null,
        ' ', h('button', { dataset: { discard: j.photoId }, onclick: () => act(async () => {
          if (!window.confirm('从手机上删除这张被拒收的照片文件？删除后不能恢复；照片记录留在服务器上，标明被拒收。')) return;
          await c.discardUpload(j.photoId);
        }) }, '移除'));
    })));
}

// rejectedCard lists the changes the server refused (client.rejected()),
// kept until the inspector dismisses them: what each was, why it was
// refused, and — for an edit of an inspection that was locked and has
// since been returned — a way to make it again. onPhone holds the
// records (entity/id) still on the phone.
function rejectedCard(app, rejected, onPhone, inspections, findings, templates, siteName, tplTitle) {
  if (!rejected.length) return null;
  const c = app.client;
  // Which record a refused change was of, as the inspector knows it: the
  // site, checklist and day of its inspection; a finding's description; a
  // vehicle's plate; a site's name.
  const inspText = (id) => inspectionText(id, inspections, siteName, tplTitle);
  const whereOf = (r) => {
    const f = r.fields || {};
    switch (r.entity) {
      case 'inspection': return inspText(r.id);
      case 'finding': {
        const local = findings.find((x) => x.id === r.id)?.fields || {};
        return [clip(String(f.description || local.description || '')), inspText(f.inspection_id || local.inspection_id)].filter(Boolean).join(' · ');
      }
      case 'photo': return f.inspection_id ? '照片 · ' + inspText(f.inspection_id) : f.vehicle_check_id ? '路检照片' : '';
      case 'site': return String(f.name || siteName[r.id] || '');
      case 'vehicle_check': return f.plate ? '车牌 ' + f.plate : '';
    }
    return '';
  };
  const statusOf = (r) => {
    const id = r.entity === 'inspection' ? r.id : r.entity === 'finding'
      ? (r.fields?.inspection_id || findings.find((f) => f.id === r.id)?.fields.inspection_id) : null;
    return inspections.find((i) => i.id === id)?.fields.status;
  };
  const act = async (fn) => {
    try { await fn(); } catch (err) { toast(message(err), true, 'error'); }
    app.render();
  };
  // A finding's or photo's checklist item, by its label in its inspection's checklist.
  const itemLabel = (r, key) => {
    const insp = r.fields?.inspection_id || findings.find((f) => f.id === r.id)?.fields.inspection_id;
    return fieldLabel({ field: 'answers.' + key, id: insp }, inspections, templates);
  };
  return h('section', { class: 'card', id: 'rejected' },
    h('h2', {}, `被服务器拒绝的修改（${rejected.length}）`),
    h('p', { class: 'mute small' }, '这些修改没有保存到服务器，手机上显示的是服务器上的内容；您填写的内容保存在这里，点“知道了”后删除。'),
    h('ul', { class: 'list' }, rejected.map((r) => {
      // Made again once its cause is gone: the inspection returned, or
      // the user's county given back (refused again, it comes back here).
      const reopen = r.code === 'record_locked' && ['returned', 'draft'].includes(statusOf(r)) || r.code === 'out_of_scope';
      const where = whereOf(r);
      const shown = onPhone.has(r.entity + '/' + r.id);
      const href = !shown ? null : r.entity === 'inspection' ? '#/inspection/' + r.id : r.entity === 'finding' ? '#/finding/' + r.id : null;
      // A record refused when it was made (an inspection, a finding, a
      // roadside check, a site, a photo) is not on the phone (the SDK
      // puts back what the server has: nothing).
      const created = !r.delete && !shown;
      const typed = shownFields(r, onPhone.get(r.entity + '/' + r.id));
      return h('li', { class: 'item', dataset: { key: r.key, code: r.code } },
        where ? h('p', { class: 'name where' }, href ? h('a', { href }, where) : where) : null,
        h('p', { class: 'err' }, rejectedMessage(r, (f) => fieldLabel({ field: f, id: r.id }, inspections, templates), created)),
        typed.length ? h('p', { class: 'mute small', dataset: { typed: r.key } }, typed.slice(0, SHOWN_MAX).map(([k, v], i) =>
          [i ? '；' : '', fieldLabel({ field: k, id: r.id }, inspections, templates), '：', k === 'item_key' ? itemLabel(r, v) : show(v, k, r.entity)]),
        typed.length > SHOWN_MAX ? `；等 ${typed.length} 项` : '') : null,
        h('p', { class: 'mute small' }, when(r.at)),
        reopen ? h('button', { class: 'primary', dataset: { reapply: r.key }, onclick: () => act(async () => {
          await reapplyGroup(c, r, rejected);
          toast('已重新应用，将在同步时上传', false, 'saved');
          app.sync(false);
        }) }, '重新应用') : null,
        correction(r, act, app, rejected),
        ' ', h('button', { dataset: { dismiss: r.key }, onclick: () => act(async () => {
          // Its dependents go with it: alone, they could never be sent.
          const group = withDependents(r, rejected).filter((x) => x === r || x.code === 'unknown_reference');
          if (group.length > 1 && !window.confirm(`同时删除随它被拒绝的 ${group.length - 1} 项（照片、问题等）？它们无法单独上传。`)) return;
          await c.dismissRejected(...group);
        }) }, '知道了'));
    })));
}

/** reapplyGroup makes r again, with the record's other refused changes
 *  and the records refused for want of it (its finding, its photo):
 *  alone, they stayed refused for good. A value set again by an earlier
 *  one of them is this one's to set after it (passed as a correction:
 *  reapply leaves out a value changed since the refusal). corrections,
 *  if given, are r's. */
async function reapplyGroup(c, r, rejected, corrections) {
  const setBefore = new Set();
  for (const x of withDependents(r, rejected)) {
    const own = Object.entries(x.delete ? {} : x.fields || {});
    const again = Object.fromEntries(own.filter(([f]) => setBefore.has(x.entity + '/' + x.id + '/' + f)));
    const fix = x === r ? { ...again, ...corrections } : again;
    await c.reapply(x, Object.keys(fix).length ? fix : undefined);
    for (const [f] of own) setBefore.add(x.entity + '/' + x.id + '/' + f);
  }
}

/** withDependents is r with the refused changes that go with it, in the
 *  list's order: the other refused changes of its record, and the records
 *  refused for want of one of these (unknown_reference, parent rejected),
 *  theirs too. */
function withDependents(r, rejected) {
  const recs = new Set([r.entity + '/' + r.id]);
  const taken = new Set([r]);
  for (let grew = true; grew;) {
    grew = false;
    for (const x of rejected) {
      if (taken.has(x)) continue;
      const same = recs.has(x.entity + '/' + x.id);
      const child = x.code === 'unknown_reference' && x.parent?.state === 'rejected' && recs.has(x.parent.entity + '/' + x.parent.id);
      if (same || child) {
        taken.add(x);
        recs.add(x.entity + '/' + x.id);
        grew = true;
      }
    }
  }
  return rejected.filter((x) => taken.has(x));
}

// Refusals for one value of a change: the inspector corrects it here and
// the change is made again with it (client.reapply), instead of losing
// the whole record to 知道了 — a roadside check dated a year ahead by a
// phone whose clock was fixed offline, say.
const valueCodes = new Set(['invalid_value', 'invalid_field', 'missing_field']);
const timeFields = new Set(['checked_at', 'started_at', 'finished_at', 'captured_at']);
const numberFields = new Set(['urea_level_pct', 'ringelmann', 'opacity', 'radius_m']);
const textFields = new Set(['plate', 'checkpoint', 'campaign', 'summary', 'description', 'note', 'remarks', 'caption',
  'name', 'address', 'rectification_note', 'vin', 'obd_codes', 'remote_sensing_id']);

/** correction is the form that corrects the refused value of r (its
 *  field), or null when r was not refused for one value the app can edit
 *  as it stands (a checklist answer is corrected on its inspection). */
function correction(r, act, app, rejected) {
  const f = r.field || '';
  if (r.delete || !valueCodes.has(r.code) || !(timeFields.has(f) || numberFields.has(f) || textFields.has(f) || f === 'deadline')) return null;
  const old = r.fields?.[f];
  const ms = typeof old === 'string' ? Date.parse(old) : NaN;
  // A date typed 2026/12/11 or 2026.12.11 is offered as the date it meant.
  const day = typeof old === 'string' ? old.trim().replace(/^(\d{4})[/.年](\d{1,2})[/.月](\d{1,2})日?$/, (_, y, m, d) => `${y}-${m.padStart(2, '0')}-${d.padStart(2, '0')}`).slice(0, 10) : '';
  // The server's limits, checked here: a correction it would refuse again
  // is said at once.
  const limit = maxLen[r.entity]?.[f];
  const range = ranges[r.entity]?.[f];
  const input = timeFields.has(f)
    ? h('input', { type: 'datetime-local', name: f, required: true, value: Number.isFinite(ms) ? chinaTime(ms).slice(0, 16) : '' })
    : f === 'deadline' ? h('input', { type: 'date', name: f, required: true, value: day })
      : numberFields.has(f) ? h('input', { type: 'number', name: f, step: 'any', min: range?.[0], max: range?.[1], value: old == null ? '' : String(old) })
        : h('input', { type: 'text', name: f, maxlength: limit, value: old == null ? '' : String(old) });
  const err = h('p', { class: 'err' });
  const submit = (ev) => {
    ev.preventDefault();
    const v = input.value.trim();
    const name = fieldNames[f] || f;
    err.textContent = input.required && !v ? `请填写“${name}”。`
      : numberFields.has(f) ? (range ? outOfRange(name, input, range[0], range[1]) : '')
        : limit ? tooLong(name, v, limit) : '';
    if (err.textContent) return;
    let value = v;
    if (timeFields.has(f)) value = v ? v + ':00+08:00' : null; // China time, as every record time (sync.md §5.1)
    else if (numberFields.has(f)) value = v === '' ? null : Number(v);
    else if (v === '') value = null;
    const fix = { [f]: value };
    // A photo's capture signature covers its time and place: corrected,
    // the photo is sent unsigned rather than as a forgery.
    if (r.entity === 'photo' && r.fields?.capture_sig) Object.assign(fix, { capture_sig: null, capture_key_id: null });
    return act(async () => {
      await reapplyGroup(app.client, r, rejected, fix);
      toast('已改正，将在同步时上传', false, 'saved');
      app.sync(false);
    });
  };
  // novalidate: its own messages, in Chinese, not the browser's bubble.
  return h('form', { class: 'correct', dataset: { correct: r.key }, onsubmit: submit, novalidate: true },
    h('label', { class: 'field' }, '改正“', fieldNames[f] || f, '”后重新提交：'), input, err, ' ',
    h('button', { type: 'submit', class: 'primary' }, '改正后重新提交'));
}

// The vocabularies of a roadside check's fields (syncproto/vocab.go).
const vocabOf = { emission_stage: emissionStages, fuel: fuels, aftertreatment: aftertreatments, action: vehicleActions };

// Field names as inspectors read them.
const fieldNames = {
  summary: '检查小结', status: '状态', note: '备注', name: '名称', address: '地址', description: '问题描述',
  deadline: '整改时限', severity: '严重程度', rectification_note: '整改说明', caption: '照片说明', plate: '车牌号',
  checkpoint: '检查点', campaign: '专项行动', action: '处理结果', remarks: '备注', item_key: '检查项',
  started_at: '开始时间', finished_at: '结束时间', checked_at: '检查时间', captured_at: '拍摄时间',
  plate_color: '号牌颜色', plate_type: '号牌种类', vin: '车辆识别代号', emission_stage: '排放阶段', fuel: '燃料',
  aftertreatment: '后处理装置', obd_mil: 'OBD 故障灯', obd_codes: 'OBD 故障码', urea_level_pct: '尿素液位',
  ringelmann: '林格曼黑度', opacity: '不透光烟度', remote_sensing_id: '遥感检测编号', kind: '类型', radius_m: '范围（米）',
  // named in the server's messages (缺少必填的“点位”（site_id）)
  site_id: '点位', county: '区县', template_id: '检查表', template_version: '检查表版本', inspection_id: '所属检查',
  finding_id: '所属问题', vehicle_check_id: '所属路检记录', sha256: '照片文件', content_type: '照片格式',
};

// Fields a refused change's card leaves out: the records it belongs to
// (its line above names them), and what the phone fills in by itself.
const technical = new Set(['inspection_id', 'finding_id', 'vehicle_check_id', 'site_id', 'template_id', 'template_version',
  'county', 'lon', 'lat', 'accuracy_m', 'crs', 'sha256', 'content_type', 'size_bytes', 'capture_sig', 'capture_key_id', 'active']);

// shownFields are a refused change's fields an inspector reads: of a
// record still on the phone (rec), those the change would have changed —
// an edit of a roadside check sends the whole form, and the first four
// of its fields, unchanged, were shown in place of the 处罚 and the note
// typed (roadside probe) — else all of them.
const shownFields = (r, rec) => Object.entries(r.fields || {}).filter(([k, v]) =>
  !technical.has(k) && (!rec || JSON.stringify(rec.fields[k] ?? null) !== JSON.stringify(v ?? null)));

// SHOWN_MAX is how many of a refused change's fields its card lists.
const SHOWN_MAX = 8;

// fieldLabel names a superseded field: a checklist item by its label in
// the inspection's checklist, another field by its Chinese name.
function fieldLabel(s, inspections, templates) {
  const f = s.field || '';
  if (!f.startsWith('answers.')) return fieldNames[f] || f;
  const key = f.slice(8);
  const insp = inspections.find((i) => i.id === s.id);
  const tpl = insp && templates.find((t) => t.fields.template_id === insp.fields.template_id && t.fields.version === insp.fields.template_version);
  const itemOf = (t) => (Array.isArray(t?.fields.items) ? t.fields.items.find((it) => it.key === key) : null);
  // An inspection deleted since (its edit went with it) is no longer on
  // the phone: the item is named by a checklist that has it, not by its
  // key (检查项 vehicle_gate_log).
  const item = itemOf(tpl) || (insp ? null : templates.map(itemOf).find(Boolean));
  return item?.label || '检查项 ' + key;
}

// show renders a field's value as the inspector chose it: a checklist
// answer by its result, a status or severity by its Chinese name, a
// yes/no by 是/否 — never the code the app stores.
function show(v, field, entity) {
  if (v == null) return '（清空）';
  const vocab = vocabOf[field];
  if (vocab && typeof v === 'string') return vocab.find((c) => c.code === v)?.label || v;
  if (timeFields.has(field) && typeof v === 'string' && Number.isFinite(Date.parse(v))) return when(v);
  if (field === 'kind' && typeof v === 'string') return siteKindChoices.find((c) => c.code === v)?.label || v;
  const names = field === 'status' ? (entity === 'finding' ? findingStatusNames : statusNames)
    : field === 'severity' ? severityNames : null;
  if (names && typeof v === 'string') return names[v] || v;
  if (typeof v === 'boolean') return v ? '是' : '否';
  if (typeof v === 'object') {
    const result = { pass: '合格', fail: '不合格', na: '不适用' }[v.result];
    if (result) return result;
    return v.value != null ? show(v.value) : clip(JSON.stringify(v));
  }
  return clip(String(v));
}

/** clip shortens a long text to what a card can show: the first 100
 *  characters and how long it was. */
function clip(s) {
  const chars = [...s];
  return chars.length > 100 ? `${chars.slice(0, 100).join('')}…（共 ${chars.length} 字）` : s;
}

/** signOutWarning says what signing out now leaves unsent — only what
 *  there is —, that it stays on the phone for this account's next
 *  sign-in (the sign-out keeps it: it used to drop it, after a warning
 *  that read like the one before it; field-app probe), and what to do
 *  first: sync where there is signal, or deal with the refused changes
 *  and photos on the home screen (a sync does not clear them).
 *  d.failed: of d.photos, those the server refused. */
export function signOutWarning(d, state = '') {
  const unsent = [];
  const records = d.records ?? d.changes ?? 0;
  const failed = d.failed || 0;
  const photos = Math.max(0, (d.photos || 0) - failed);
  if (records) unsent.push(`${records} 条记录的修改`);
  if (photos) unsent.push(`${photos} 张照片`);
  const lines = [];
  const why = state === 'ended' ? '（登录已失效）' : state ? '' : '（可能是没有网络）';
  if (unsent.length) lines.push(`还有 ${unsent.join('、')}没有上传${why}。`);
  if (d.rejected) lines.push(`有 ${d.rejected} 条被服务器拒绝的修改还没有处理（见首页“被服务器拒绝的修改”）。`);
  if (failed) lines.push(`有 ${failed} 张被服务器拒收的照片还没有处理（见首页“被拒收的照片”）。`);
  const kept = '退出后，这些数据仍保存在本手机上，不会删除；下次用本账号登录后继续上传、处理。其他人在本手机登录前会先看到提示。';
  if (state === 'device_revoked' || state === 'user_disabled') {
    // No sync can send them: only the office can take them off the phone.
    const who = state === 'device_revoked' ? '本手机已被管理员停用' : '此账号已停用';
    return `${lines.join('\n')}\n${who}，这些数据无法再上传，退出后仍保存在本手机上。\n\n请联系县督查室从手机上取回数据；取回前不要让其他人在本手机登录。确定退出吗？`;
  }
  const advice = [];
  if (unsent.length) advice.push(state === 'ended' ? '在有信号的地方重新登录并同步' : '到有信号的地方同步');
  if (d.rejected) advice.push('在首页处理被拒绝的修改');
  if (failed) advice.push('在首页处理被拒收的照片');
  return `${lines.join('\n')}\n${kept}\n\n如方便，可先${advice.join('，再')}，然后退出。确定退出吗？`;
}

/** KEPT_KEY holds, by username (folded), what each user who signed out
 *  left unsent on the phone: {name, records, photos, rejected}. The
 *  sign-in screen says it (the next user of the phone saw nothing of it),
 *  and the user's own sign-in, whose sync sends it, clears it. */
export const KEPT_KEY = 'fieldsync.kept';

/** kept reads KEPT_KEY. */
export function kept() {
  try { return JSON.parse(store.get(KEPT_KEY) || '{}') || {}; } catch { return {}; }
}

/** keptFor records what user (SDK User) left unsent, by status s; none
 *  left, it forgets them. */
export function keptFor(user, s) {
  if (!user?.username) return;
  const all = kept();
  const left = { name: user.display_name || user.username, records: s.pendingRecords || 0, photos: photosWaiting(s), rejected: s.rejectedChanges || 0 };
  if (left.records || left.photos || left.rejected) all[foldUser(user.username)] = left;
  else delete all[foldUser(user.username)];
  if (Object.keys(all).length) store.set(KEPT_KEY, JSON.stringify(all));
  else store.del(KEPT_KEY);
}

async function signOut(app) {
  const c = app.client;
  // A vehicle being entered is no record yet: the SDK does not know of
  // it, and signing out drops the form with its photos.
  const held = unsavedVehicle();
  if (held && !window.confirm(`${held}，退出后将被清空、不能找回。\n\n建议取消，先到“路检”页保存这辆车，然后退出。确定仍要退出吗？`)) return;
  app.leaving = true;
  try {
    await c.signOut();
  } catch (err) {
    if (err.code !== 'unsent_changes') { toast(message(err), true, 'error'); return; }
    const last = c.status().lastSync?.error?.code;
    const state = ['device_revoked', 'user_disabled'].includes(last) ? last : app.sessionEnded() ? 'ended' : '';
    const ok = window.confirm(signOutWarning({ ...err.details, failed: c.status().failedPhotos }, state));
    if (!ok) return;
    const who = c.user;
    await c.signOut({ keep: true });
    keptFor(who, c.status());
  } finally {
    app.leaving = false;
  }
  // Signed out offline: the server still holds the session, until the
  // phone is online again with this storage open — or any user's.
  if (await c.sessionsOwed?.().catch(() => 0)) app.oweSignOut(app.clientUser);
  app.signedOut();
}
