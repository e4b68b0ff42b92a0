// What to tell the inspector about an error: in Chinese, saying what to do.

const byCode = {
  network: '连不上服务器。已填写的内容都保存在手机上，有信号后会自动上传；也可稍后点“立即同步”。',
  timeout: '服务器长时间没有响应（可能正忙或网络很慢）。已填写的内容都保存在手机上，稍后会自动重试；也可稍后点“立即同步”。',
  invalid_credentials: '用户名或密码不对，请核对后重试（注意大小写）。',
  too_many_attempts: '密码错误次数过多，请过几分钟再试。',
  user_disabled: '此账号已停用，请联系县督查室。',
  device_revoked: '本手机已被管理员停用，不能再同步。手机上的数据没有删除，请联系县督查室处理。',
  device_mismatch: '登录信息与本手机不符，请退出后重新登录。',
  token_expired: '登录已过期，请重新登录。手机上未上传的数据会保留。',
  token_invalid: '登录已失效，请重新登录。手机上未上传的数据会保留。',
  unauthorized: '登录已失效，请重新登录。手机上未上传的数据会保留。',
  signed_out: '尚未登录，请先登录（首次登录需要联网）。',
  session_lost: '登录已失效（刷新登录时网络中断）。数据都保存在手机上，可以继续离线工作；有信号时请重新登录。',
  session_ended: '登录已失效。数据都保存在手机上，可以继续离线工作；有信号时请重新登录，之后自动上传。',
  unsent_changes: '还有数据没有上传，请到有信号的地方先同步。',
  server_owned_field: '此项由服务器填写，手机不能修改。',
  record_locked: '此检查记录已提交或已审核，不能再修改；如需修改请联系县督查室退回。',
  quota_exceeded: '服务器暂存空间已满，照片稍后会自动重试上传，无需操作。',
  upload_offset_mismatch: '照片上传被打断，下次同步时会从中断处继续，无需操作。',
  hash_mismatch: '照片在上传中损坏（校验不一致）。请保留原照片，稍后重试；多次失败请重新拍摄。',
  bad_image: '照片文件损坏或格式不支持，请重新拍摄（JPEG、PNG 或 HEIC）。',
  out_of_scope: '该记录不属于您负责的区县，请联系县督查室。',
  unknown_reference: '所属的点位或检查记录在服务器上不存在（可能已被删除），这条修改不会再自动上传；内容仍保存在手机上，请联系县督查室。',
  clock_skew: '手机时间不准，已自动校正。请在系统设置中打开“自动确定时间”。',
  resync_required: '需要重新下载数据，正在自动处理，请保持联网。',
  body_too_large: '一次上传的数据过多，将自动分批重试。',
  forbidden: '您的账号没有此权限，请联系县督查室。',
  not_deletable: '照片、路检记录和已经督查审核的检查是证据，不能删除；拍错或填错了请修改，或在说明中注明。',
  read_only_entity: '此类数据只能由督查室修改。',
  unavailable: '服务器暂时不可用，稍后会自动重试；长时间如此请联系管理员。',
  server_busy: '服务器繁忙，数据已保存在手机上，稍后会自动重试。',
  internal: '服务器出错，稍后会自动重试；长时间如此请联系管理员。',
  storage_full: '手机存储空间不足，请删除一些无用的文件或照片后重试。',
  storage_unavailable: '此浏览器不能在手机上保存数据（可能是无痕模式或存储被禁用）。请用 Chrome 正常模式打开，否则关闭页面后数据会丢失。',
};

/** message returns the Chinese message for err (a FieldsyncError, a
 *  DOMException, anything). */
export function message(err) {
  if (!err) return '';
  if (err.name === 'QuotaExceededError') return byCode.storage_full;
  const code = err.code;
  // The phone has signal, the server stopped answering (the SDK gave up
  // after its requestTimeout): not “连不上”.
  if (code === 'network' && err.details?.timeout) return byCode.timeout;
  // Repeated wrong passwords: the wait the server asks for, as it is.
  if (code === 'too_many_attempts' && err.details?.retryAfter > 0) return `密码错误次数过多，请 ${waitText(err.details.retryAfter)}后再试。`;
  if (code && byCode[code]) return byCode[code];
  if (err.status >= 500) return byCode.unavailable;
  if (err.status === 0 || err instanceof TypeError) return byCode.network;
  // The SDK's and the server's messages are Chinese already.
  if (err.message && /[\u4e00-\u9fff]/.test(err.message)) return err.message;
  return '出错了：' + (err.message || String(err)) + '。请稍后重试；如反复出现，请截图发给管理员。';
}

/** waitText says a wait of s seconds: 30 秒, 2 分钟. */
function waitText(s) {
  return s < 90 ? `${Math.ceil(s)} 秒` : `${Math.ceil(s / 60)} 分钟`;
}

const entityNames = { inspection: '检查记录', finding: '整改问题', photo: '照片', site: '点位', vehicle_check: '路检记录' };

// Why a change was refused, as it stands: every change in the failed list
// (client.rejected()) is kept on the phone and never sent again by itself.
const rejectedWhy = {
  record_locked: '该检查记录已提交，待审核（或已审核），不能再修改。您的修改已另存在手机上；如督查室退回该检查，可点“重新应用”。',
  out_of_scope: '该记录不属于您负责的区县（区县范围可能已调整）。内容已保留在手机上；区县范围恢复后可点“重新应用”上传，如有疑问请联系县督查室。',
  not_deletable: '照片、路检记录和已经督查审核的检查是证据，不能删除；已恢复显示。',
  not_found: '服务器上没有这条记录。',
  body_too_large: '内容太大（超过服务器一次能接收的 16 MB），无法上传。内容已保留在手机上，请删减后重新填写，或截图发给管理员。',
};

/** rejectedMessage explains a mutation the server refused (an entry of
 *  client.rejected()): what it was, why, and what happens now. label(f)
 *  names field f as the inspector reads it, for the server's messages
 *  that name a field by its code. created says the refused change made
 *  the record (the server never had it). */
export function rejectedMessage(r, label, created = false) {
  const what = entityNames[r.entity] || r.entity;
  const act = r.delete ? '删除' : created ? '新建' : '修改';
  let why = rejectedWhy[r.code];
  if (r.code === 'record_locked' && r.entity === 'finding') {
    why = created
      ? '所属检查已提交，待审核（或已审核），不能再新增问题。内容已另存在手机上；如督查室退回该检查，可点“重新应用”。'
      : '该问题已由督查室核实（或所属检查已提交，待审核），不能再修改。您的修改已另存在手机上；如有疑问请联系县督查室。';
  }
  if (r.code === 'record_locked' && (r.entity === 'vehicle_check' || /作废/.test(r.message || ''))) {
    // A roadside check an office voided (or its photo): no submission, no
    // return, no 重新应用 — the server says why (field app probe: it was
    // told as an inspection under review).
    why = `${(r.message || '该路检记录已被督查作废，不能再修改').replace(/[。.]$/, '')}。您的修改已另存在手机上，不会再上传；如有疑问请联系县督查室。`;
  }
  if (r.code === 'unknown_reference') {
    const parent = entityNames[r.parent?.entity] || '点位或检查记录';
    why = r.parent?.state === 'rejected'
      ? `所属的${parent}本身被服务器拒绝（见本列表），这条${act}不会再上传；内容已保留在手机上。`
      : r.parent?.state === 'deleted'
        ? `所属的${parent}已在服务器上删除，这条${act}不会再上传；内容已保留在手机上，如需找回请联系县督查室。`
        : byCode.unknown_reference;
  }
  // The server names a field by its label and code (“检查小结”（summary）
  // 超过 4000 个字符), or a map's member by its code (字段 answers.fence ):
  // the inspector reads the app's label, without the code.
  const said = r.message && label ? r.message
    .replace(/“[^”]*”（([a-z_][a-z0-9_]*)）/g, (_, f) => `“${label(f)}”`)
    .replace(/字段 ([a-z_][a-z0-9_]*(?:\.[a-z0-9_]+)?) ?/g, (_, f) => `“${label(f)}”`) : r.message;
  if (!why) {
    const text = byCode[r.code] || said || r.code;
    why = text + (/[。！？.!?]$/.test(text) ? '' : '。') + '内容已保留在手机上，可截图发给管理员。';
  }
  return created ? `新建的${what}被服务器拒绝：${why}` : `${what}的一处${act}被服务器拒绝：${why}`;
}

// Why the server refused a photo's file for good (its upload failed and
// waits for the inspector, sync.md §10.4; or the photo's refused flag,
// once pulled): the phone never sends it again by itself.
const photoRefusedWhy = {
  bad_image: '文件损坏或格式不支持（只收 JPEG、PNG 或 HEIC 照片）',
  hash_mismatch: '文件与拍摄时不一致（校验不符，可能在手机上被改动或损坏）',
  body_too_large: '文件超过服务器允许的大小',
};

/** photoRefusedMessage explains a photo the server refused for good: why
 *  (err: the failed upload's error or the refused flag, {code, message}
 *  or {code, reason}) and what to do — take it again, or, when what it
 *  belongs to is locked (an inspection submitted or approved), ask the
 *  office to return it first: the phone offers no camera there. */
export function photoRefusedMessage(err, locked = false) {
  const todo = locked ? '检查已提交，手机上不能重拍；需要补拍时，请督查室退回这次检查后再拍。' : '请重拍。';
  // Not the server's doing: no request was made.
  if (err?.code === 'upload_failed') return '手机读不出这张照片的文件，无法上传，' + todo;
  const said = err?.message || err?.reason;
  const why = photoRefusedWhy[err?.code] || (said && /[\u4e00-\u9fff]/.test(said) ? said.replace(/[。.]$/, '') : '上传出错');
  return `照片被服务器拒收：${why}。不会再自动上传，${todo}`;
}
