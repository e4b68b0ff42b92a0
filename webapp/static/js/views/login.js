// Sign-in: online, once; the session then survives restarts and offline days.
import { h, label, store } from '../ui.js';
import { message } from '../errors.js';

export async function render(app) {
  const last = store.get('fieldsync.user') || '';
  const err = h('p', { class: 'err', id: 'login-error', role: 'alert' });
  const user = h('input', { type: 'text', name: 'username', autocomplete: 'username', autocapitalize: 'off', value: last, required: true });
  const pass = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true });
  const btn = h('button', { type: 'submit', class: 'primary block' }, '登录');
  const form = h('form', { class: 'card', id: 'login' },
    label('用户名', user), user,
    label('密码', pass), pass,
    err, btn,
    h('p', { class: 'mute small' }, '首次登录需要联网。登录后可离线使用多日，数据在有信号时自动同步。'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.textContent = '';
    const u = user.value.trim();
    if (!u || !pass.value) { err.textContent = '请填写用户名和密码。'; return; }
    if (navigator.onLine === false) { err.textContent = '现在没有网络。首次登录需要联网，请到有信号的地方再登录。'; return; }
    btn.disabled = true;
    btn.textContent = '正在登录…';
    try {
      const client = await app.openClient(u);
      await client.signIn(u, pass.value);
      location.hash = '#/';
      app.sync(false);
    } catch (e2) {
      // Nothing was filled in yet: the network message of a sync (kept on
      // the phone, sent later) does not fit a sign-in.
      err.textContent = e2 && e2.code === 'network' ? '连不上服务器，无法登录。请确认手机已联网，或稍后再试。' : message(e2);
    } finally {
      btn.disabled = false;
      btn.textContent = '登录';
    }
  });
  return h('div', {}, h('h1', {}, '巡查员登录'), form);
}
