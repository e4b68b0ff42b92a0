package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"mime"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// decodeJSON reads a JSON request body into v strictly: the content type
// must be JSON, unknown fields and wrong types are refused with the field
// named, trailing data is refused, and the body limit (set by bodyLimit)
// gives body_too_large.
func (a *API) decodeJSON(c echo.Context, v any) error {
	mt, params, _ := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType))
	if mt != echo.MIMEApplicationJSON {
		return server.Errorf(syncproto.CodeUnsupportedMediaType, "请求体应为 application/json")
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "utf8") {
		// JSON is UTF-8 (RFC 8259); a body declared in another charset
		// would be read as UTF-8 all the same, its text changed.
		return server.Errorf(syncproto.CodeUnsupportedMediaType, "请求体应为 UTF-8 编码的 JSON（Content-Type 的 charset 为 %s）", strconv.Quote(cs))
	}
	if syncproto.EncodedBody(c.Request().Header.Values(echo.HeaderContentEncoding)) {
		// The body would be read as JSON whatever its coding: a gzipped
		// one as "malformed JSON", which a phone takes for its own bug.
		c.Response().Header().Set("Accept-Encoding", "identity")
		return server.Errorf(syncproto.CodeUnsupportedMediaType, "请求体不能压缩（Content-Encoding），请直接发送 JSON")
	}
	body, err := a.readWhole(c)
	switch {
	case err != nil:
		return err
	case len(bytes.TrimSpace(body)) == 0:
		return server.Errorf(syncproto.CodeBadRequest, "请求体为空")
	}
	// What encoding/json would let through altered (invalid UTF-8, rounded
	// numbers) or that phones cannot parse back (deep nesting) is refused
	// before decoding, naming where it is.
	if err := server.CheckJSON(body, server.MaxBodyDepth, ""); err != nil {
		return err
	}
	if req, ok := v.(*syncproto.PushRequest); ok && decodePush(body, req) {
		return nil // the usual push, read without reflection
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err = dec.Decode(v)
	if err == nil {
		if _, terr := dec.Token(); !errors.Is(terr, io.EOF) {
			return server.Errorf(syncproto.CodeBadRequest, "JSON 之后还有多余内容")
		}
		return checkMembers(body, reflect.TypeOf(v), "")
	}
	if _, ok := v.(*syncproto.PushRequest); ok {
		// Name the mutation at fault, which a phone sets aside (sync.md
		// section 11) while it sends the others.
		if i, raw, merr := mutationAt(body); merr != nil {
			return decodeError(merr, raw, reflect.TypeFor[syncproto.Mutation](), fmt.Sprintf("mutations[%d]", i))
		}
	}
	return decodeError(err, body, reflect.TypeOf(v), "")
}

// mutationAt returns the index of the first mutation of a push body that
// does not decode on its own, strictly, its JSON and its error (nil if
// each does).
func mutationAt(body []byte) (int, []byte, error) {
	var raw struct {
		Mutations []json.RawMessage `json:"mutations"`
	}
	if json.Unmarshal(body, &raw) != nil {
		return -1, nil, nil
	}
	for i, m := range raw.Mutations {
		dec := json.NewDecoder(bytes.NewReader(m))
		dec.DisallowUnknownFields()
		var mu syncproto.Mutation
		if err := dec.Decode(&mu); err != nil {
			return i, m, err
		}
	}
	return -1, nil, nil
}

// decodeError is the error of body, of type t, that encoding/json
// refused; at names the part of the request body decoded ("" the whole
// body, mutations[2] one mutation of a push).
func decodeError(err error, body []byte, t reflect.Type, at string) error {
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
	)
	field := func(name string) string {
		switch {
		case at == "":
			return name
		case name == "":
			return at
		}
		return at + "." + name
	}
	unknown := "未知字段 %s"
	if at != "" {
		unknown = at + " 中有未知字段 %s"
	}
	switch {
	case errors.Is(err, io.EOF):
		return server.Errorf(syncproto.CodeBadRequest, "请求体为空")
	case errors.As(err, &syn), errors.Is(err, io.ErrUnexpectedEOF):
		return server.Errorf(syncproto.CodeBadRequest, "JSON 格式错误")
	case errors.As(err, &typ) && typ.Field == "" && at == "":
		return server.Errorf(syncproto.CodeInvalidField, "请求体应为 JSON 对象")
	case errors.As(err, &typ):
		path, ft := jsonPath(t, typ.Field)
		if ft != nil && ft.Kind() == reflect.Map {
			// encoding/json names the map, not the member: the first
			// member, in the body's order, its element type refuses.
			if key, ok := badMember(body, path, ft.Elem()); ok {
				path += "." + key
			}
		}
		name := field(path)
		if wholeNumber(typ.Value, typ.Type) {
			// 1e20 for a seq: a whole number, too large for its integer
			// (attack probe: "of the wrong type" misled).
			return server.Errorf(syncproto.CodeInvalidField, "字段 %s 的数字超出范围", name).At(name)
		}
		return server.Errorf(syncproto.CodeInvalidField, "字段 %s 的类型错误，应为%s", name, jsonKind(typ.Type)).At(name)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		quoted := strings.TrimPrefix(err.Error(), "json: unknown field ")
		name, uerr := strconv.Unquote(quoted)
		if uerr != nil {
			name = quoted
		}
		return server.Errorf(syncproto.CodeUnknownField, unknown, quoted).At(field(name))
	}
	return &server.Error{Code: syncproto.CodeBadRequest, Message: "请求体无法解析", Err: err}
}

// wholeNumber reports whether an UnmarshalTypeError's Value ("number
// 1e20") is a whole number that an integer of type t refused for its
// size: out of range. A negative one for an unsigned t is not (its
// message says a non-negative integer).
func wholeNumber(value string, t reflect.Type) bool {
	n, ok := strings.CutPrefix(value, "number ")
	if !ok {
		return false
	}
	f, err := strconv.ParseFloat(n, 64)
	if (err != nil && !errors.Is(err, strconv.ErrRange)) || math.IsNaN(f) || f != math.Trunc(f) {
		return false
	}
	switch t.Kind() {
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return f >= 0
	}
	return true
}

// Default body pace (Config.BodyIdle, Config.BodyMinRate). A push holds
// an admission turn while its body arrives (admit.go): a phone that lost
// its signal half-way, or a client that stops (or sends a byte now and
// then) on purpose, would otherwise hold it until the connection dies,
// and a few of them every turn. 4 KB/s is a poor 2G link.
const (
	// DefaultBodyIdle is the longest a request body may go without a
	// byte, unless configured: photo uploads' too (upload.WithBodyIdle).
	DefaultBodyIdle    = 20 * time.Second
	defaultBodyMinRate = 4096.0
)

// bodyPace is how a request body must arrive: idle is the longest it may
// go without a byte, and rate the least rate (bytes a second) it must
// keep on average once idle has passed.
type bodyPace struct {
	idle time.Duration
	rate float64
}

// tooSlow is the error of a body that stopped coming, or came too slowly
// (err, a read past the connection's deadline).
func (p bodyPace) tooSlow(err error) error {
	return &server.Error{Code: syncproto.CodeRequestTimeout,
		Message: fmt.Sprintf("请求体接收过慢（%s内没有收到数据，或平均每秒不足 %.0f KB），请在网络恢复后重新发送", server.ChineseDuration(p.idle), p.rate/1024), Err: err}
}

// MaxFormBytes caps a console form's body (the console's own limit).
const MaxFormBytes = 1 << 20

// readBody reads a request body whole, in one allocation when its length
// is declared (the body limit has already refused one too long), at the
// pace p sets (w's connection's read deadline, moved on as bytes come),
// else it fails with os.ErrDeadlineExceeded.
func (p bodyPace) readBody(r *http.Request, w http.ResponseWriter) ([]byte, error) {
	rc := http.NewResponseController(w)
	body := io.Reader(r.Body)
	start := time.Now()
	idle := rc.SetReadDeadline(start.Add(p.idle)) == nil
	if idle {
		body = &idleReader{r: r.Body, rc: rc, start: start, pace: p}
	}
	var b []byte
	var err error
	if r.ContentLength > 0 {
		buf := bytes.NewBuffer(make([]byte, 0, r.ContentLength+1))
		_, err = buf.ReadFrom(body)
		b = buf.Bytes()
	} else {
		b, err = io.ReadAll(body)
	}
	switch {
	case err != nil:
		// The deadline stays: net/http reads what is left of a body
		// before it answers, and would wait for a stalled one forever.
		// The connection closes after the answer.
		w.Header().Set("Connection", "close")
	case idle:
		err = rc.SetReadDeadline(time.Time{}) // the handler's work is not the body's
	}
	return b, err
}

// idleReader moves its connection's read deadline on after every read
// that brought bytes: to pace.idle later, or sooner, to when the bytes
// read so far fall below pace.rate since start (past it, the next read
// fails at once).
type idleReader struct {
	r     io.Reader
	rc    *http.ResponseController
	start time.Time
	read  int64
	pace  bodyPace
}

func (ir *idleReader) Read(p []byte) (int, error) {
	n, err := ir.r.Read(p)
	if n > 0 && err == nil {
		ir.read += int64(n)
		due := ir.start.Add(ir.pace.idle + time.Duration(float64(ir.read)/ir.pace.rate*float64(time.Second)))
		next := time.Now().Add(ir.pace.idle)
		if due.Before(next) {
			next = due
		}
		err = ir.rc.SetReadDeadline(next)
	}
	return n, err
}

// jsonKind names the JSON type a Go type decodes from, for messages (Go
// type names mean nothing to a client).
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Pointer:
		return jsonKind(t.Elem())
	case reflect.String:
		return "字符串"
	case reflect.Bool:
		return " true 或 false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "整数" // 1.5 is a number, and wrong here
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "非负整数"
	case reflect.Float32, reflect.Float64:
		return "数字"
	case reflect.Slice, reflect.Array:
		return "数组"
	case reflect.Struct, reflect.Map:
		return "对象"
	}
	return "其他类型"
}

// bodyTooLarge is the body_too_large answer to a body over limit bytes,
// in the unit people read, and for a push what to do: send fewer
// mutations a batch (sync.md 5.2).
func bodyTooLarge(c echo.Context, limit int64) error {
	size := fmt.Sprintf("%d 字节", limit)
	switch {
	case limit >= 1<<20 && limit%(1<<20) == 0:
		size = fmt.Sprintf("%d MiB", limit>>20)
	case limit >= 1<<10 && limit%(1<<10) == 0:
		size = fmt.Sprintf("%d KiB", limit>>10)
	}
	if c.Path() == syncproto.PathPush {
		return server.Errorf(syncproto.CodeBodyTooLarge, "一次上传的数据超过 %s：请把待上传的修改分成较小的批次发送（每批几百条）；一条修改就超过此大小的，是其中的内容过长，须删减后重新保存", size)
	}
	return server.Errorf(syncproto.CodeBodyTooLarge, "请求体超过 %s", size)
}

// bodyLimit caps request bodies at n bytes.
func bodyLimit(n int64) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			if req.ContentLength > n {
				return bodyTooLarge(c, n)
			}
			req.Body = http.MaxBytesReader(c.Response(), req.Body, n)
			return next(c)
		}
	}
}

var rawMessageType = reflect.TypeFor[json.RawMessage]()

// checkMembers checks, beside the Go type t that encoding/json has just
// decoded raw into, what that decoder lets through: a member whose name
// matches a field only in another letter case ("USERNAME" for
// "username"), which it takes for the field and a client never meant as
// one, is an unknown field; and a JSON null given for a field that cannot
// hold one (a string, number or boolean of the request type), which it
// would leave at its zero value, so that the request would fail — or pass
// — for the wrong reason ("device_id": null read as "" is not a device
// mismatch but a wrong type; "mutations": null is not an empty batch, nor
// "fields": null a mutation without fields). It walks down to the first field whose
// values are kept raw. (A member named twice, which the decoder reads as
// the last one, server.CheckJSON has refused already.)
func checkMembers(raw []byte, t reflect.Type, path string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		if t.Kind() == reflect.Interface || t == rawMessageType {
			return nil // any JSON value
		}
		if path == "" {
			return server.Errorf(syncproto.CodeInvalidField, "请求体应为 JSON 对象")
		}
		return server.Errorf(syncproto.CodeInvalidField, "字段 %s 不能为 null，应为%s", path, jsonKind(t)).At(path)
	}
	if t == rawMessageType {
		return nil
	}
	join := func(name string) string {
		if path == "" {
			return name
		}
		return path + "." + name
	}
	switch t.Kind() {
	case reflect.Struct:
		var members map[string]json.RawMessage
		if json.Unmarshal(raw, &members) != nil {
			return nil // the decoder has reported it
		}
		for _, name := range slices.Sorted(maps.Keys(members)) { // the same error for the same body
			f, ok := structField(t, name)
			if !ok {
				return server.Errorf(syncproto.CodeUnknownField, "未知字段 %s（字段名区分大小写）", join(name)).At(join(name))
			}
			if err := checkMembers(members[name], f.Type, join(name)); err != nil {
				return err
			}
		}
	case reflect.Map:
		if t.Elem() == rawMessageType {
			return nil // values kept raw, null as any other
		}
		var members map[string]json.RawMessage
		if json.Unmarshal(raw, &members) != nil {
			return nil
		}
		for _, name := range slices.Sorted(maps.Keys(members)) {
			if err := checkMembers(members[name], t.Elem(), join(name)); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		var elems []json.RawMessage
		if json.Unmarshal(raw, &elems) != nil {
			return nil
		}
		for i, v := range elems {
			if err := checkMembers(v, t.Elem(), path+"["+strconv.Itoa(i)+"]"); err != nil {
				return err
			}
		}
	}
	return nil
}

// structField finds the field a JSON member name decodes into, by its
// exact name (encoding/json would also take a name in another letter
// case), in t or a struct it embeds.
func structField(t reflect.Type, name string) (reflect.StructField, bool) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return reflect.StructField{}, false
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Anonymous && tag == "" && f.Type.Kind() == reflect.Struct {
			if ef, ok := structField(f.Type, name); ok {
				return ef, true
			}
			continue
		}
		if tag == "-" || !f.IsExported() {
			continue
		}
		if tag == "" {
			tag = f.Name
		}
		if tag == name {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// jsonPath is path, a field of a body of type t as encoding/json names it
// in an error, as the body names it: encoding/json puts in the Go name of
// an embedded struct (VerifyRequest's ReviewRequest.decision), which no
// client sends nor knows. Segments are walked through t's fields by their
// JSON names; past one that is no struct field (a map's key) the rest is
// kept as it is.
func jsonPath(t reflect.Type, path string) (string, reflect.Type) {
	var out []string
	segs := strings.Split(path, ".")
	for i, seg := range segs {
		for t != nil && (t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			t = t.Elem()
		}
		if t == nil || t.Kind() != reflect.Struct {
			return strings.Join(append(out, segs[i:]...), "."), nil
		}
		if f, ok := t.FieldByName(seg); ok && f.Anonymous {
			t = f.Type // the embedded struct's Go name: not in the body
			continue
		}
		out = append(out, seg)
		f, ok := structField(t, seg)
		if !ok {
			return strings.Join(append(out, segs[i+1:]...), "."), nil
		}
		t = f.Type
	}
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return strings.Join(out, "."), t
}

// badMember returns the name of the first member, in body's order, of
// the JSON object at path (member names joined by dots, as jsonPath
// gives them) whose value does not decode into elem — what a map's
// UnmarshalTypeError leaves out. False if there is no such object (an
// array on the way, say) or member.
func badMember(body []byte, path string, elem reflect.Type) (string, bool) {
	for seg := range strings.SplitSeq(path, ".") {
		var obj map[string]json.RawMessage
		if json.Unmarshal(body, &obj) != nil {
			return "", false
		}
		body = obj[seg]
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return "", false
	}
	for dec.More() {
		tok, err := dec.Token()
		key, ok := tok.(string)
		var v json.RawMessage
		if err != nil || !ok || dec.Decode(&v) != nil {
			return "", false
		}
		if json.Unmarshal(v, reflect.New(elem).Interface()) != nil {
			return key, true
		}
	}
	return "", false
}

// QueryParams are the query parameters each API route takes (by its
// echo path; openapi.yaml documents the same, spec_test.go checks it). An
// API route not listed takes none.
var QueryParams = map[string][]string{
	"/api/v1/sync/pull": {"cursor", "limit", "hlcs", "form"},
	"/api/v1/conflicts": {"entity", "record_id", "limit"},
}

// strictQuery refuses a request whose query string does not parse (a
// ';' separator, a bad %-escape), instead of silently dropping the part
// it cannot read (a console search for "a%" searched for nothing), or
// that repeats a parameter: on every route but the office console's
// pages (whose filter forms may repeat a parameter).
// On the API it also refuses a parameter the route does not take (a
// misspelt cursor would otherwise pull from the start).
func strictQuery(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		q, err := url.ParseQuery(c.Request().URL.RawQuery)
		if _, escape := errors.AsType[url.EscapeError](err); escape {
			return &server.Error{Code: syncproto.CodeBadRequest, Message: "查询参数含有无效的 % 转义", Err: err}
		} else if err != nil {
			return &server.Error{Code: syncproto.CodeBadRequest, Message: "查询参数格式错误（参数之间只能用 & 分隔）", Err: err}
		}
		if p := c.Request().URL.Path; p == "/console" || strings.HasPrefix(p, "/console/") {
			return next(c)
		}
		// Only on a route found: an unknown path is answered 404 as it is.
		allowed, api := QueryParams[c.Path()], strings.HasPrefix(c.Path(), "/api/")
		for _, name := range slices.Sorted(maps.Keys(q)) {
			shown := name // in the answer: not all of a long one
			if len(shown) > 64 {
				shown = strings.ToValidUTF8(shown[:64], "") + "…"
			}
			switch {
			case len(q[name]) > 1:
				return server.Errorf(syncproto.CodeBadRequest, "查询参数 %s 重复", shown)
			case api && !slices.Contains(allowed, name) && len(allowed) == 0:
				return server.Errorf(syncproto.CodeBadRequest, "未知的查询参数 %q：此接口不接受查询参数", shown)
			case api && !slices.Contains(allowed, name):
				return server.Errorf(syncproto.CodeBadRequest, "未知的查询参数 %q（可用：%s）", shown, strings.Join(allowed, "、"))
			}
		}
		return next(c)
	}
}

// storableText refuses, on every route, query parameters and form fields
// that no store can keep as text: a NUL character or invalid UTF-8
// (PostgreSQL refuses both in a text value, so they would reach the
// database as an internal error). JSON bodies are checked the same way by
// server.CheckJSON.
func (a *API) storableText(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		check := func(what string, vals url.Values) error {
			for name, vs := range vals {
				for _, v := range append(vs, name) {
					if strings.IndexByte(v, 0) >= 0 || !utf8.ValidString(v) {
						shown := strings.ToValidUTF8(strings.ReplaceAll(name, "\x00", ""), "?")
						switch {
						case len(shown) > 64 || strings.ContainsFunc(shown, unicode.IsControl):
							// Not the request's bytes back: a name that is not one.
							shown = "（名称无法显示）"
						case shown == "":
							shown = "（名称为空或只有空字符）"
						}
						return server.Errorf(syncproto.CodeBadRequest, "%s %s 含有空字符或无效的 UTF-8 编码", what, shown)
					}
				}
			}
			return nil
		}
		r := c.Request()
		if q, err := url.ParseQuery(r.URL.RawQuery); err == nil { // malformed queries are strictQuery's
			if err := check("查询参数", q); err != nil {
				return err
			}
		}
		// Forms are the console's: an API body is JSON or a photo's bytes
		// (tus), whatever type it claims, and is refused as such by its
		// handler (415), not read as a form here.
		p := r.URL.Path
		console := p == "/console" || strings.HasPrefix(p, "/console/")
		if console && r.Method == http.MethodPost && r.Body != nil && r.Body != http.NoBody {
			if err := a.readConsoleBody(c); err != nil {
				// Nothing more of it is read: not by the error page,
				// which shows a refused form's text again.
				r.Body, r.Form, r.PostForm = http.NoBody, url.Values{}, url.Values{}
				return err
			}
		}
		if mt, _, _ := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType)); console && mt == echo.MIMEApplicationForm {
			// A body that is no readable form (a malformed escape, more
			// fields than Go reads) is refused here: the form read later
			// would be empty or partial, without a word why.
			if err := r.ParseForm(); err != nil {
				return errUnreadableForm
			}
			if err := check("表单字段", r.PostForm); err != nil {
				return err
			}
			// A browser sends a textarea's line breaks as CR LF: stored as
			// the phones and the API write them, one LF each.
			for _, form := range []url.Values{r.PostForm, r.Form} {
				for _, vs := range form {
					for i, v := range vs {
						vs[i] = server.OneNewline(v)
					}
				}
			}
		}
		return next(c)
	}
}

// readConsoleBody reads the body of a console request whole, as a JSON
// body is read: at most MaxFormBytes (refused at once when declared
// larger), with the idle and rate rules, and puts it back as the
// request's body for its form to be parsed from. Read later by the form's
// parser, with no deadline, a body declared and never sent held the
// connection for as long as the client liked.
func (a *API) readConsoleBody(c echo.Context) error {
	r := c.Request()
	if r.ContentLength > MaxFormBytes {
		return bodyTooLarge(c, MaxFormBytes)
	}
	r.Body = http.MaxBytesReader(c.Response(), r.Body, MaxFormBytes)
	body, err := a.readWhole(c)
	if err != nil {
		return err
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return nil
}

// readWhole reads the request's body whole with the idle and rate rules
// (bodyPace.readBody); errors: body_too_large past its limit,
// request_timeout when it stopped coming, bad_request when cut off.
func (a *API) readWhole(c echo.Context) ([]byte, error) {
	body, err := a.pace.readBody(c.Request(), c.Response())
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return nil, bodyTooLarge(c, mbe.Limit)
	case errors.Is(err, os.ErrDeadlineExceeded):
		return nil, a.pace.tooSlow(err)
	case err != nil:
		return nil, &server.Error{Code: syncproto.CodeBadRequest, Message: "请求体读取失败", Err: errors.Join(server.ErrBodyIncomplete, err)}
	}
	return body, nil
}

// errUnreadableForm refuses a body that cannot be read as a form.
var errUnreadableForm = server.Errorf(syncproto.CodeBadRequest, "无法读取提交的表单（编码有误，或字段过多）")

// clientRequestID keeps a client's own X-Request-Id only when it is a
// plain token (1–64 of A–Z a–z 0–9 - _ .); anything else — control
// characters, invalid UTF-8, a log line — is dropped and the server makes
// one, since the id is echoed in headers, error bodies and logs.
func clientRequestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Request().Header
		if id := h.Get(echo.HeaderXRequestID); id != "" && !plainToken(id, 64) {
			h.Del(echo.HeaderXRequestID)
		}
		return next(c)
	}
}

func plainToken(s string, max int) bool {
	if len(s) == 0 || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}
