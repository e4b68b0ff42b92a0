// Sign-in: online, once; the session then survives restarts and offline days.
import { h, label, store, foldUser, markField } from '../ui.js';
import { message } from '../errors.js';
import { photosWaiting } from '../photos.js';
import { kept, keptFor } from './home.js';

export async function render(app) {
  // The session the server ended (app.sessionEnded): this user's work is
  // on the phone, waiting for this sign-in to be sent.
  const ended = app.sessionEnded();
  const last = store.get('fieldsync.user') || app.clientUser || '';
  const err = h('p', { class: 'err', id: 'login-error', role: 'alert' });
  const user = h('input', { type: 'text', name: 'username', autocomplete: 'username', autocapitalize: 'off', value: last, required: true });
  const pass = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true });
  const btn = h('button', { type: 'submit', class: 'primary block' }, '登录');
  // novalidate: an empty box is said in the app's words (below), not in
  // the browser's bubble, which speaks the phone's language.
  const form = h('form', { class: 'card', id: 'login', novalidate: true },
    label('用户名', user), user,
    label('密码', pass), pass,
    err, btn,
    ended ? h('p', { class: 'mute small', id: 'login-kept' }, keptText(app.client.status()))
      : h('p', { class: 'mute small' }, '首次登录需要联网。登录后可离线使用多日，数据在有信号时自动同步。'),
    othersKept(),
    ended ? h('a', { class: 'btn block', id: 'work-offline', href: '#/' }, '暂不登录，继续离线工作') : null);
  // The boxes said to be empty, or to have been refused, while they are:
  // what is typed into one takes its mark and its words away, and the
  // error with the last (it stayed until the next 登录, a11y verification).
  let empty = false;
  const sayEmpty = (u, pw) => {
    markField(user, err, !u);
    markField(pass, err, !pw);
    err.textContent = !u && !pw ? '请填写用户名和密码。' : !u ? '请填写用户名。' : !pw ? '请填写密码。' : '';
  };
  for (const f of [user, pass]) {
    f.addEventListener('input', () => {
      if (f.getAttribute('aria-invalid') !== 'true') return;
      if (empty) return sayEmpty(user.value.trim(), pass.value);
      markField(user, err, false);
      markField(pass, err, false);
      err.textContent = '';
    });
  }
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.textContent = '';
    const u = user.value.trim();
    // The box left empty is the one said to be wrong (a11y probe).
    empty = !u || !pass.value;
    sayEmpty(u, pass.value);
    if (empty) {
      (u ? pass : user).focus();
      return;
    }
    if (navigator.onLine === false) {
      err.textContent = ended ? '现在没有网络，登录需要联网。可以先继续离线工作，到有信号的地方再登录。'
        : '现在没有网络。首次登录需要联网，请到有信号的地方再登录。';
      return;
    }
    // Another user signing in over an ended session with work still to
    // send: that work stays on the phone, in its user's storage, and is
    // sent when they sign in here again — say so before it drops out of
    // sight.
    const kept = store.get('fieldsync.user');
    const other = !!kept && foldUser(kept) !== foldUser(u);
    if (ended && other) {
      const s = app.client.status();
      const waiting = [s.pendingRecords ? `${s.pendingRecords} 条记录` : '', photosWaiting(s) ? `${photosWaiting(s)} 张照片` : '',
        s.rejectedChanges ? `${s.rejectedChanges} 条被拒绝的修改` : ''].filter(Boolean);
      // Named as the inspector knows them (张巡查), with the name they sign
      // in with (field app probe: the login name alone).
      const name = app.client.user?.display_name;
      const who = name && name !== kept ? `${name}（${kept}）` : kept;
      if (waiting.length && !window.confirm(`手机上还有 ${who} 的 ${waiting.join('、')}没有上传。\n改用 ${u} 登录后，这些数据仍保存在手机上，但要等 ${who} 在这部手机上重新登录后才会上传。\n\n确定改用 ${u} 登录吗？`)) return;
    }
    btn.disabled = true;
    btn.textContent = '正在登录…';
    try {
      const client = await app.openClient(u);
      await client.signIn(u, pass.value);
      keptFor(client.user, {}); // what it left is its own home screen's again, sent by its syncs
      app.signedIn();
      location.hash = '#/';
      app.sync(false);
    } catch (e2) {
      // A name no one signed in with on this phone leaves no storage;
      // another name typed over the phone's user's ended session: the app
      // goes back to the inspector whose work is on the phone.
      await app.dropUnusedClient();
      if (kept && (other || !app.client)) await app.openClient(kept).catch(() => {});
      // Nothing was filled in yet: the network message of a sync (kept on
      // the phone, sent later) does not fit a sign-in.
      err.textContent = e2 && e2.code === 'network' ? '连不上服务器，无法登录。请确认手机已联网，或稍后再试。' : message(e2);
      // The button was disabled under the focus, which fell to the body:
      // back to the password to type again, marked as what was refused
      // (verification probe).
      const refused = e2?.code === 'invalid_credentials';
      markField(user, err, refused);
      markField(pass, err, refused);
      btn.disabled = false;
      if (!form.contains(document.activeElement)) pass.focus();
    } finally {
      btn.disabled = false;
      btn.textContent = '登录';
    }
  });
  return h('div', {}, h('h1', {}, ended ? '重新登录' : '巡查员登录'), form);
}

/** othersKept says what users who signed out left unsent on the phone
 *  (home.js keptFor): it stays, and goes up at their next sign-in here. */
function othersKept() {
  const lines = Object.values(kept()).map((k) => {
    const what = [k.records ? `${k.records} 条记录` : '', k.photos ? `${k.photos} 张照片` : '', k.rejected ? `${k.rejected} 条被拒绝的修改` : ''].filter(Boolean);
    return `${k.name} 的 ${what.join('、')}`;
  });
  if (!lines.length) return null;
  return h('p', { class: 'notice small', id: 'login-others-kept' },
    `本手机上还保存着 ${lines.join('；')}尚未上传，本人在这部手机上重新登录后会继续上传。`);
}

/** keptText tells an inspector whose session ended what waits on the
 *  phone for the new sign-in. */
function keptText(s) {
  const waiting = [];
  if (s.pendingRecords) waiting.push(`${s.pendingRecords} 条记录`);
  if (photosWaiting(s)) waiting.push(`${photosWaiting(s)} 张照片`);
  // Refused photos are kept too, but no sign-in sends them: they are
  // taken again.
  const refused = s.failedPhotos ? `；${s.failedPhotos} 张照片被服务器拒收，登录后在首页查看` : '';
  return '登录已失效。手机上的数据都还在' + (waiting.length ? `，其中 ${waiting.join('、')}等待上传` : '') + refused + '；重新登录后会自动同步。';
}
