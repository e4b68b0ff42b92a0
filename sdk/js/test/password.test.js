// A user changes their own password from the phone, against the real
// fieldsync binary.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FieldsyncClient, FieldsyncError, MemoryStorage, uuidv7 } from '../src/index.js';
import { demoSite, device, startServer, syncOK, tempDir } from './helpers.js';

test('changePassword: refusals change nothing; a change keeps this phone signed in with its unsent work, ends the others, and the new password signs in', async () => {
  const srv = await startServer({ dataDir: tempDir('data') });
  const storage = new MemoryStorage();
  const phone = await device(srv.url, { storage });
  const tab = await FieldsyncClient.open({ baseURL: srv.url, storage, deviceName: '测试手机' }); // another tab of the app
  const other = await device(srv.url); // the same user's other phone
  await syncOK(phone);
  await syncOK(other);

  /** @param {Promise<unknown>} p @param {string} code @param {string} field */
  const refused = async (p, code, field) => {
    await assert.rejects(p, (err) => err instanceof FieldsyncError && err.code === code && err.field === field && /[\u4e00-\u9fff]/.test(err.message));
  };
  await refused(phone.changePassword('not-the-password', '新的密码abc'), 'invalid_field', 'current_password'); // the server's answer
  await refused(phone.changePassword('inspector123', 'short'), 'invalid_field', 'new_password');
  await refused(phone.changePassword('inspector123', 'inspector123'), 'invalid_field', 'new_password');
  await refused(phone.changePassword('', '新的密码abc'), 'missing_field', 'current_password');
  assert.equal(phone.signedIn, true);
  await syncOK(phone);

  const id = uuidv7();
  await phone.save('inspection', id, { site_id: await demoSite(phone), template_id: 'coal_yard', template_version: 1, status: 'draft' });
  const user = await phone.changePassword('inspector123', '新的密码abc');
  assert.equal(user.username, 'inspector');
  assert.equal(phone.signedIn, true);
  const stored = await storage.transaction('meta', 'readonly', (tx) => tx.get('meta', 'auth'));
  assert.equal(stored?.refresh, phone.auth.refresh, 'the new pair is stored');
  const r = await syncOK(phone);
  assert.equal(r.pushed, 1, 'the unsent work goes with the new session');

  // The other tab, holding the old pair, takes the stored one.
  assert.equal((await tab.sync()).error, null);
  assert.equal(tab.signedIn, true);
  // The other phone's session ended; the old password no longer signs in.
  assert.equal((await other.sync()).error?.code, 'token_invalid');
  await assert.rejects(other.signIn('inspector', 'inspector123'), (err) => err instanceof FieldsyncError && err.code === 'invalid_credentials');
  await other.signIn('inspector', '新的密码abc');
  await syncOK(other);
});
