// 修改密码: the signed-in user changes their own password (sync.md §2;
// the SDK's changePassword). This phone stays signed in, with its unsent
// work; the user's other phones and the console sign in again.
import { h, label, toast } from '../ui.js';
import { message } from '../errors.js';

/** The server's own words for a refusal of the form's values. */
const SAID = new Set(['invalid_field', 'missing_field', 'conflict']);

export async function render(app) {
  const err = h('p', { class: 'err', id: 'password-error', role: 'alert' });
  const input = (name, autocomplete) => h('input', { type: 'password', name, id: 'pw-' + name, autocomplete, required: true });
  const current = input('current', 'current-password');
  const next = input('new', 'new-password');
  const again = input('again', 'new-password');
  const btn = h('button', { type: 'submit', class: 'primary block', id: 'pw-submit' }, '修改密码');
  const form = h('form', { class: 'card', id: 'password', novalidate: true },
    h('h1', {}, '修改密码'),
    h('p', { class: 'mute small' }, '修改后本手机继续登录，未上传的数据照常上传；您的其他手机和督查后台需用新密码重新登录。需联网。'),
    label('当前密码', current), current,
    label('新密码（8 到 72 个字节，汉字每字 3 个字节）', next), next,
    label('再输一次新密码', again), again,
    err, btn,
    h('a', { class: 'btn block', href: '#/' }, '返回'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.textContent = '';
    if (next.value !== again.value) {
      err.textContent = '两次输入的新密码不一致';
      return;
    }
    btn.disabled = true;
    try {
      await app.client.changePassword(current.value, next.value);
      toast('密码已修改：本手机继续登录，其他手机和督查后台需用新密码重新登录');
      app.go('#/');
    } catch (e2) {
      err.textContent = SAID.has(e2?.code) ? e2.message : message(e2);
    } finally {
      btn.disabled = false;
    }
  });
  return form;
}
