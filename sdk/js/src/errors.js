// FieldsyncError: one error type for everything the SDK throws or reports,
// carrying the server's stable code (syncproto/codes.go) or the SDK's own.

/** Chinese messages for the inspector, by code (sync.md §6, §10.4, §11). */
export const MESSAGES = {
  // The SDK's own codes.
  network: '网络不可用，数据已保存在手机上，联网后再同步',
  unsent_changes: '手机上还有未上传的记录或照片，或被服务器拒绝、尚未处理的修改；请先联网同步并处理后再退出或换账号登录',
  signed_out: '请先登录',
  unencodable_value: '字段值无法保存（不是有效的数据，如 NaN 或无穷大；应用程序错误），请联系技术支持',
  upload_not_failed: '这张照片没有上传失败，无需重试或放弃',
  session_lost: '登录状态已失效（刷新令牌时网络中断），请重新登录；未上传的数据不会丢失',
  storage_full: '手机存储空间不足，本次操作没有保存；请清理手机空间后重试，已保存的数据不受影响',
  storage_changed: '此手机的数据已在另一个窗口换成其他账号，请关闭本窗口后重新打开应用',
  storage_locked: '数据目录正被另一个程序（或本程序的另一个实例）使用，请先关闭它',
  storage_closed: '数据存储已关闭（应用程序错误：关闭后须重新打开），数据仍保存在手机上',
  upload_failed: '照片无法上传：照片文件无法读取或发送（应用程序错误），照片仍保存在手机上，请联系技术支持',
  photo_exists: '该编号的照片已存在，不能换成另一张照片（应用程序错误）',
  photo_duplicate: '这张照片已保存在同一记录（同一检查项）下，没有重复保存',
  // The server's codes.
  bad_request: '请求格式有误（应用程序错误），请联系技术支持',
  invalid_field: '字段值不符合要求，请检查后重新填写',
  unknown_field: '包含系统不认识的字段（应用程序错误），请联系技术支持',
  missing_field: '缺少必填字段，请补全后再保存',
  body_too_large: '一次上传的数据太大',
  request_timeout: '网络太慢，本次上传中断，数据已保存在手机上，请稍后再同步',
  unauthorized: '请先登录',
  token_invalid: '登录已失效，请重新登录；未上传的数据不会丢失',
  token_expired: '登录已过期，请重新登录',
  invalid_credentials: '用户名或密码错误',
  too_many_attempts: '登录失败次数过多，请稍后再试',
  device_revoked: '此手机已被管理员停用，请联系县督查室；手机上的数据已保留',
  user_disabled: '此账号已停用，请联系县督查室；手机上的数据已保留',
  device_mismatch: '设备标识不一致，请重新登录',
  forbidden: '没有权限执行此操作',
  out_of_scope: '该记录不在您负责的区县范围内，请联系办公室',
  not_found: '记录不存在',
  method_not_allowed: '不支持的操作（应用程序错误）',
  conflict: '此设备已被其他账号使用，请先同步上一位用户的数据',
  batch_mismatch: '上传批次不一致，将重新上传',
  resync_required: '数据范围已变化或服务器已从备份恢复，正在从头同步',
  unsupported_media_type: '不支持的文件类型',
  hash_mismatch: '照片文件与记录的校验值不一致，照片已保留，请重新拍摄或联系技术支持',
  bad_image: '照片文件已损坏或格式不对，照片已保留，请重新拍摄',
  upload_offset_mismatch: '照片上传进度不一致，将自动续传',
  invalid_upload: '照片上传参数有误（应用程序错误），请联系技术支持',
  not_ready: '照片尚未上传完成',
  quota_exceeded: '待关联的照片太多，服务器暂不接收；记录上传后再同步即可继续上传照片',
  internal: '服务器内部错误，请稍后重试',
  unavailable: '服务器暂时不可用，请稍后重试',
  server_busy: '服务器繁忙，数据已保存在手机上，请稍后再同步',
  unknown_entity: '未知的数据类型（应用程序错误）',
  invalid_id: '记录编号格式不对（应用程序错误）',
  invalid_hlc: '时间戳格式不对（应用程序错误）',
  clock_skew: '手机时间与服务器相差太大，已自动校准并重新提交',
  server_owned_field: '该字段只能由服务器或办公室填写',
  read_only_entity: '此类数据只能由办公室修改',
  record_locked: '检查已提交或已通过审核，退回前不能修改',
  immutable_field: '该字段创建后不能修改',
  unknown_reference: '所引用的记录尚未上传或已删除',
  not_deletable: '此记录不能删除（证据、点位和已经督查审核的检查只能修改，不能删除）',
  record_deleted: '该记录已被删除，本次修改未生效',
  invalid_value: '取值不在允许范围内',
  // superseded() entries' codes (sync.md §7): not errors, said as what
  // happened to the edit (SDK probe: the generic 操作失败 told the
  // inspector to retry).
  overwritten: '您填的值已被之后的修改替换（其他手机或督查室）',
  applied: '您填的值与更晚的修改冲突，以更晚的为准',
  stale: '您填的值与更晚的修改冲突，以更晚的为准',
};

/** An error from the server or the SDK. */
export class FieldsyncError extends Error {
  /**
   * @param {string} code the server's stable code or the SDK's
   * @param {{status?: number, message?: string, details?: any, requestId?: string, field?: string, cause?: unknown}} [opts]
   */
  constructor(code, opts = {}) {
    super(opts.message || messageFor(code), opts.cause !== undefined ? { cause: opts.cause } : undefined);
    this.name = 'FieldsyncError';
    this.code = code;
    this.status = opts.status ?? 0;
    /** What the code's documentation says it carries; always an object ({} when nothing), so that err.details.timeout never throws. @type {Record<string, any>} */
    this.details = opts.details ?? {};
    this.requestId = opts.requestId ?? '';
    /** Where in the request the fault is, when the server named one place: a JSON path (`mutations[3].fields.plate`). */
    this.field = opts.field ?? '';
  }

  /** Whether repeating the same request later may succeed (network, 5xx, 429). */
  get temporary() {
    return this.code === 'network' || this.status >= 500 || this.status === 429;
  }
}

/**
 * The Chinese message for a code (a generic one for codes added later).
 * @param {string} code
 * @returns {string}
 */
export function messageFor(code) {
  return /** @type {Record<string, string>} */ (MESSAGES)[code] ?? `操作失败（${code}），请稍后重试或联系技术支持`;
}
