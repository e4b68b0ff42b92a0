// Command fieldctl is a command-line fieldsync device: an inspector's
// phone in a terminal, and the reference implementation of
// mobile-api-docs/sync.md. Its data (records, outbox, upload queue) lives
// in a SQLite database in --dir (or $FIELDCTL_DIR, default
// ./fieldctl-data). Only login and sync use the network.
//
//	fieldctl login --server URL --username U --password P
//	fieldctl logout
//	fieldctl sync
//	fieldctl sites [--kind K]
//	fieldctl templates
//	fieldctl inspect start SITE_ID [--template ID]
//	fieldctl inspect use INSPECTION_ID
//	fieldctl inspect show [INSPECTION_ID]
//	fieldctl inspect answer KEY VALUE [--note TEXT] [--photo FILE]
//	fieldctl inspect submit [--force]
//	fieldctl vehicle add --plate P --checkpoint C --stage 国六 --fuel 天然气 --aftertreatment removed|present [--action 处罚] [--again]
//	fieldctl finding list
//	fieldctl finding rectify FINDING_ID [--note TEXT] [--photo FILE] [--in-progress]
//	fieldctl status
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"

	"github.com/mattn/go-sqlite3"
	"github.com/xinzhou-eco/fieldsync/device"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(Main(ctx, os.Args[1:], os.Stdout, os.Stderr, nil))
}

// errUsage asks for the usage text.
var errUsage = errors.New("usage")

const usage = `用法: fieldctl [--dir DIR] 命令
  login --server URL --username U --password P   登录并登记本设备
  logout                                          退出登录（本机记录和待上传内容保留）
  sync                                            上传、下载、上传照片
  sites [--kind K]                                本机点位
  templates                                       检查表模板
  inspect start SITE_ID [--template ID]           开始检查（草稿）
  inspect use INSPECTION_ID                       切换当前检查
  inspect show [INSPECTION_ID]                    检查项（键、类型、要求）、当前答案、缺项
  inspect answer KEY VALUE [--note T] [--photo FILE]
                                                  填写检查项：合格/不合格项 pass|fail|na，
                                                  数值项填数字，文字项填文字，选项填选项值，
                                                  是/否项填 是|否；任何项都可填 na（不适用）
  inspect submit [--force]                        提交当前检查（有缺项时须 --force）
  vehicle add --plate P --checkpoint C --stage S --fuel F --aftertreatment A [--action X] [--county C] [--again]
                                                  同一车辆当天已在该检查点检查过时须 --again
  finding list                                    本机的问题：待整改、已整改、已核实
  finding rectify FINDING_ID [--note T] [--photo FILE] [--in-progress]
                                                  报告整改：已整改（或 --in-progress 整改中），
                                                  附整改说明和照片（检查已提交、待审核时不能报告）
  status                                          待上传、被拒绝、审核结果
  reapply ID... | --all                           重新提交被拒绝的记录（拒绝的原因已消除时：
                                                  检查已被退回，区县范围已恢复）
--dir 可写在命令前后任意位置；以 - 开头的值（如 -5）照常填写，
也可在其前写 --（其后的都当作值）。
`

// Main runs fieldctl with args and returns the exit code. setup, if not
// nil, adjusts the opened device (tests use it to set the HTTP client).
func Main(ctx context.Context, args []string, stdout, stderr io.Writer, setup func(*device.Device)) int {
	fs := flag.NewFlagSet("fieldctl", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", envOr("FIELDCTL_DIR", "./fieldctl-data"), "data directory")
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	if err := fs.Parse(args); err != nil {
		return 2
	}
	// --dir is the device's wherever it is typed (fieldctl status --dir
	// X): after the command, it was taken for the command's and the
	// default directory used, or made.
	rest, err := takeDir(fs.Args(), dir)
	if err != nil || len(rest) == 0 || !commands[rest[0]] {
		fs.Usage()
		return 2
	}
	d, err := device.Open(*dir)
	if err != nil {
		if damaged, ok := damagedStore(err, *dir); ok {
			fmt.Fprintln(stderr, "fieldctl:", damaged)
		} else {
			fmt.Fprintln(stderr, "fieldctl:", err)
		}
		return 1
	}
	defer d.Close()
	d.Out = stdout
	if setup != nil {
		setup(d)
	}
	err = run(ctx, d, rest, stdout, stderr)
	var missing missingFlags
	switch {
	case errors.As(err, &missing):
		fmt.Fprintf(stderr, "fieldctl %s: 缺少 %s\n", rest[0], strings.Join(missing, "、"))
		fmt.Fprint(stderr, usage)
		return 2
	case errors.Is(err, errUsage):
		fmt.Fprint(stderr, usage)
		return 2
	case err != nil:
		msg := describe(err, rest[0])
		if damaged, ok := damagedStore(err, *dir); ok {
			msg = damaged
		}
		fmt.Fprintln(stderr, "fieldctl:", msg)
		return 1
	}
	return 0
}

// commands are fieldctl's commands.
var commands = map[string]bool{"login": true, "logout": true, "sync": true, "sites": true, "templates": true, "inspect": true, "vehicle": true,
	"finding": true, "status": true, "reapply": true}

// takeDir removes the --dir flags from args (up to a "--"), setting dir
// to the last one's value.
func takeDir(args []string, dir *string) ([]string, error) {
	var rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return append(rest, args[i:]...), nil
		}
		switch name, value, ok := strings.Cut(strings.TrimLeft(a, "-"), "="); {
		case !strings.HasPrefix(a, "-") || name != "dir":
			rest = append(rest, a)
		case ok:
			*dir = value
		case i+1 < len(args):
			i++
			*dir = args[i]
		default:
			return nil, errUsage
		}
	}
	return rest, nil
}

// missingFlags names the required flags a command was given without.
type missingFlags []string

func (m missingFlags) Error() string { return "missing " + strings.Join(m, ", ") }

// required returns the names of the flags among names that fs was given
// empty, as missingFlags, or nil.
func required(fs *flag.FlagSet, names ...string) error {
	var m missingFlags
	for _, n := range names {
		if f := fs.Lookup(n); f == nil || f.Value.String() == "" {
			m = append(m, "--"+n)
		}
	}
	if m == nil {
		return nil
	}
	return m
}

// damagedStore says, of an error that comes from a damaged data file
// (SQLite's "malformed", "not a database"), what it means and what to do
// (ok true): keep the directory, which may hold unsent work.
func damagedStore(err error, dir string) (string, bool) {
	var se sqlite3.Error
	if !errors.As(err, &se) || se.Code != sqlite3.ErrCorrupt && se.Code != sqlite3.ErrNotADB {
		return "", false
	}
	return fmt.Sprintf("本机数据文件 %s 已损坏（%v）。请不要删除该目录：先将其整个复制保存（其中可能有尚未上传的记录和照片），再联系技术支持；另用一个新的 --dir 登录可继续工作", filepath.Join(dir, "fieldctl.db"), err), true
}

// describe says what went wrong in the words of the inspector at the
// command line: a server out of reach is no Go network error, and what
// was done offline is kept (but for a sign-in, which has nothing to keep).
func describe(err error, cmd string) string {
	var ue *url.Error
	if errors.As(err, &ue) && !errors.As(err, new(*syncproto.APIError)) {
		host := ue.URL
		if u, perr := url.Parse(ue.URL); perr == nil {
			host = u.Host
		}
		if cmd == "login" {
			return "无法连接服务器 " + host + "（没有网络、服务器未运行，或地址有误），未能登录"
		}
		return "无法连接服务器 " + host + "（没有网络，或服务器未运行）；本机的修改已保存，下次同步时发送"
	}
	return err.Error()
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// parse parses flags that may come before or after positional arguments
// (`inspect answer fence fail --note x`) and returns the positionals. An
// argument that starts with "-" but names no flag of fs is a positional
// (a negative number, a note typed "-东侧缺口"); after "--" every one is.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for len(args) > 0 {
		a := args[0]
		if a == "--" {
			return append(pos, args[1:]...), nil
		}
		if !strings.HasPrefix(a, "-") || !isFlag(fs, a) {
			pos, args = append(pos, a), args[1:]
			continue
		}
		// One flag at a time: with its value, unless it carries it
		// (--note=x) or is a switch (--force).
		n := 1
		name, _, withValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if f := fs.Lookup(name); f != nil && !withValue {
			if b, ok := f.Value.(interface{ IsBoolFlag() bool }); !ok || !b.IsBoolFlag() {
				n = 2
			}
		}
		if len(args) < n {
			return nil, errUsage
		}
		if err := fs.Parse(args[:n]); err != nil || fs.NArg() != 0 {
			return nil, errUsage
		}
		args = args[n:]
	}
	return pos, nil
}

// isFlag reports whether arg ("-name", "--name", "--name=value") names a
// flag of fs (or asks for help).
func isFlag(fs *flag.FlagSet, arg string) bool {
	name, _, _ := strings.Cut(strings.TrimLeft(arg, "-"), "=")
	return fs.Lookup(name) != nil || name == "h" || name == "help"
}

// noArgs refuses any argument to a command that takes none (one typed
// after it, a --dir in the wrong place, would otherwise be ignored
// without a word).
func noArgs(fs *flag.FlagSet, args []string) error {
	if pos, err := parse(fs, args); err != nil || len(pos) != 0 {
		return errUsage
	}
	return nil
}

func run(ctx context.Context, d *device.Device, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	switch args[0] {
	case "login":
		server := fs.String("server", "", "server URL")
		user := fs.String("username", "", "user name")
		pass := fs.String("password", "", "password")
		if err := noArgs(fs, args[1:]); err != nil {
			return err
		}
		if err := required(fs, "server", "username"); err != nil {
			return err
		}
		u, err := d.Login(ctx, *server, *user, *pass)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "已登录：%s（%s），区县 %s，设备 %s\n", u.DisplayName, roleName(u.Role),
			strings.Join(d.CountyNames(ctx, u.Counties), "、"), d.ID())
		return nil
	case "logout":
		if err := noArgs(fs, args[1:]); err != nil {
			return err
		}
		waiting, err := d.Logout(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, "已退出登录")
		if waiting > 0 {
			fmt.Fprintf(stdout, "本机还有 %d 项待上传（记录和照片都保留），同一用户再次 login 后 sync 即可发送\n", waiting)
		}
		return nil
	case "sync":
		if err := noArgs(fs, args[1:]); err != nil {
			return err
		}
		if err := d.Sync(ctx); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "同步完成")
		return nil
	case "sites":
		kind := fs.String("kind", "", "site kind")
		if err := noArgs(fs, args[1:]); err != nil {
			return err
		}
		code, err := siteKindCode(*kind)
		if err != nil {
			return err
		}
		sites, err := d.Sites(ctx, code)
		if err != nil {
			return err
		}
		retired := 0
		for _, s := range sites {
			mark := ""
			if s.Retired {
				mark, retired = "（已停用）", retired+1
			}
			fmt.Fprintf(stdout, "%s  %s  %s  %s%s\n", s.ID, strings.Join(d.CountyNames(ctx, []string{s.County}), ""), siteKind(s.Kind), s.Name, mark)
		}
		if retired > 0 {
			fmt.Fprintf(stdout, "共 %d 个点位（其中 %d 个已停用，不能新建检查）\n", len(sites), retired)
		} else {
			fmt.Fprintf(stdout, "共 %d 个点位\n", len(sites))
		}
		return nil
	case "templates":
		if err := noArgs(fs, args[1:]); err != nil {
			return err
		}
		ts, err := d.Templates(ctx)
		if err != nil {
			return err
		}
		for _, t := range ts {
			kinds := make([]string, len(t.SiteKinds))
			for i, k := range t.SiteKinds {
				kinds[i] = siteKind(k)
			}
			fmt.Fprintf(stdout, "%-24s %s（%d 项），适用于%s\n", t.ID, t.Title, len(t.Items), strings.Join(kinds, "、"))
		}
		return nil
	case "inspect":
		return inspect(ctx, d, args[1:], stdout, stderr)
	case "vehicle":
		return vehicle(ctx, d, args[1:], stdout, stderr)
	case "finding":
		return finding(ctx, d, args[1:], stdout, stderr)
	case "status":
		if err := noArgs(fs, args[1:]); err != nil {
			return err
		}
		return printStatus(ctx, d, stdout)
	case "reapply":
		all := fs.Bool("all", false, "every refused record")
		ids, err := parse(fs, args[1:])
		if err != nil || (len(ids) > 0) == *all {
			return errUsage
		}
		n, err := d.Reapply(ctx, ids)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "已重新加入待上传：%d 项，下次 sync 时发送\n", n)
		return nil
	}
	return errUsage
}

func inspect(ctx context.Context, d *device.Device, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errUsage
	}
	fs := flag.NewFlagSet("inspect "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	switch args[0] {
	case "start":
		tpl := fs.String("template", "", "template id (default: the first for the site's kind)")
		pos, err := parse(fs, args[1:])
		if err != nil || len(pos) != 1 {
			return errUsage
		}
		id, err := d.StartInspection(ctx, pos[0], *tpl)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, id)
		return nil
	case "use":
		pos, err := parse(fs, args[1:])
		if err != nil || len(pos) != 1 {
			return errUsage
		}
		return d.UseInspection(ctx, pos[0])
	case "show":
		pos, err := parse(fs, args[1:])
		if err != nil || len(pos) > 1 {
			return errUsage
		}
		id := ""
		if len(pos) == 1 {
			id = pos[0]
		} else if id, err = current(d); err != nil {
			return err
		}
		st, err := d.Inspection(ctx, id)
		if err != nil {
			return err
		}
		printInspection(stdout, st)
		return nil
	case "answer":
		note := fs.String("note", "", "note")
		photo := fs.String("photo", "", "photo file")
		pos, err := parse(fs, args[1:])
		if err != nil || len(pos) != 2 {
			return errUsage
		}
		cur, err := current(d)
		if err != nil {
			return err
		}
		res, err := d.AnswerItem(ctx, cur, device.Answer{Item: pos[0], Value: pos[1], Note: *note, Photo: *photo})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "已记录 %s：%s\n", pos[0], res.Text)
		if res.PhotoID != "" {
			fmt.Fprintf(stdout, "照片 %s 已排队上传\n", res.PhotoID)
		}
		switch {
		case res.FindingID != "":
			fmt.Fprintf(stdout, "已建立问题 %s\n", res.FindingID)
		case res.FindingChanged != "":
			fmt.Fprintf(stdout, "问题 %s 的描述已随备注更新\n", res.FindingChanged)
		case res.FindingDropped != "":
			fmt.Fprintf(stdout, "该项不再不合格，已撤销问题 %s\n", res.FindingDropped)
		}
		return nil
	case "submit":
		force := fs.Bool("force", false, "submit even if items are missing")
		if pos, err := parse(fs, args[1:]); err != nil || len(pos) != 0 {
			return errUsage
		}
		cur, err := current(d)
		if err != nil {
			return err
		}
		var incomplete *device.IncompleteError
		if err := d.Submit(ctx, cur, *force); errors.As(err, &incomplete) {
			return fmt.Errorf("%s\n补齐后再提交（inspect show 查看）；确需按现状提交，加 --force", missingText(incomplete))
		} else if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "检查 %s 已提交（下次同步时上传）\n", cur)
		return nil
	}
	return errUsage
}

// current returns the current inspection, or says how to choose one.
func current(d *device.Device) (string, error) {
	id, err := d.Current()
	if err == nil && id == "" {
		err = errors.New("没有当前检查记录：先 inspect start 或 inspect use")
	}
	return id, err
}

func vehicle(ctx context.Context, d *device.Device, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "add" {
		return errUsage
	}
	fs := flag.NewFlagSet("vehicle add", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var v device.Vehicle
	fs.StringVar(&v.Plate, "plate", "", "plate number")
	fs.StringVar(&v.Checkpoint, "checkpoint", "", "checkpoint")
	fs.StringVar(&v.Stage, "stage", "", "emission stage (国五, 国六, …)")
	fs.StringVar(&v.Fuel, "fuel", "", "fuel (柴油, 天然气, …)")
	fs.StringVar(&v.Aftertreatment, "aftertreatment", "", "present, removed, damaged, unknown")
	fs.StringVar(&v.Action, "action", "", "处罚, 责令维修, 放行")
	fs.StringVar(&v.County, "county", "", "county code (default: the user's first)")
	fs.StringVar(&v.Note, "note", "", "note")
	fs.BoolVar(&v.Again, "again", false, "record it though the truck was checked at this checkpoint today")
	if err := noArgs(fs, args[1:]); err != nil {
		return err
	}
	if err := required(fs, "plate", "checkpoint"); err != nil {
		return err
	}
	id, err := d.AddVehicle(ctx, v)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, id)
	return nil
}

// finding lists the device's findings, or reports one's rectification.
func finding(ctx context.Context, d *device.Device, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errUsage
	}
	fs := flag.NewFlagSet("finding "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	switch args[0] {
	case "list":
		if err := noArgs(fs, args[1:]); err != nil {
			return err
		}
		list, err := d.Findings(ctx)
		if err != nil {
			return err
		}
		for _, f := range list {
			status := server.FindingStatusLabels[f.Status]
			if f.Status == "rectifying" && f.VerifyComment != "" {
				status = "整改被退回：" + f.VerifyComment
			}
			deadline := ""
			if f.Deadline != "" {
				deadline = "，期限 " + f.Deadline
			}
			fmt.Fprintf(stdout, "%s  %s%s  %s\n", f.ID, cmp.Or(status, f.Status), deadline, f.Description)
			if f.RectificationNote != "" {
				fmt.Fprintf(stdout, "    整改说明：%s\n", f.RectificationNote)
			}
		}
		fmt.Fprintf(stdout, "共 %d 个问题\n", len(list))
		return nil
	case "rectify":
		note := fs.String("note", "", "整改说明")
		photo := fs.String("photo", "", "整改照片")
		progress := fs.Bool("in-progress", false, "整改中（未完成）")
		pos, err := parse(fs, args[1:])
		if err != nil || len(pos) != 1 {
			return errUsage
		}
		r := device.Rectification{FindingID: pos[0], Status: "rectified", Note: *note, Photo: *photo}
		if *progress {
			r.Status = "rectifying"
		}
		p, err := d.Rectify(ctx, r)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "已记录问题 %s 的整改：%s\n", pos[0], server.FindingStatusLabels[r.Status])
		if p != "" {
			fmt.Fprintf(stdout, "照片 %s 已排队上传\n", p)
		}
		return nil
	}
	return errUsage
}

func printStatus(ctx context.Context, d *device.Device, w io.Writer) error {
	s, err := d.Status(ctx)
	if err != nil {
		return err
	}
	if s.User == "" {
		fmt.Fprintf(w, "设备 %s，尚未登录（fieldctl login --server URL --username U --password P）\n", s.DeviceID)
	} else {
		fmt.Fprintf(w, "设备 %s，用户 %s，服务器 %s\n", s.DeviceID, s.User, s.Server)
	}
	fmt.Fprintf(w, "待上传记录：%d\n", s.Outbox)
	fmt.Fprintf(w, "待上传照片：%d\n", len(s.Uploads))
	for _, u := range s.Uploads {
		fmt.Fprintf(w, "  %s %d/%d 字节 %s\n", u.PhotoID, u.Offset, u.Size, u.Error)
	}
	last := s.LastSync
	if last == "" {
		last = "从未"
	}
	fmt.Fprintf(w, "上次同步：%s（上次成功：%s）\n", last, cmp.Or(s.LastSyncOK, "从未"))
	if s.Current != "" {
		fmt.Fprintf(w, "当前检查：%s\n", s.Current)
	}
	if len(s.Rejected) > 0 {
		fmt.Fprintf(w, "被拒绝的记录：%d\n", len(s.Rejected))
		refused := map[string]string{} // the first refusal of each record
		for _, r := range s.Rejected {
			what, msg := r.Entity, r.Message
			if e := server.EntityByName(r.Entity); e != nil {
				what = e.Label
			}
			key := r.Entity + "/" + r.ID
			if first, ok := refused[key]; ok && r.Code == syncproto.CodeMissingField {
				// An update of a record whose create was refused: the
				// server has no such record. Said as what it is.
				msg = "这条记录的新建已被拒绝（" + first + "），此后的修改随之未被接受"
			} else if !ok {
				refused[key] = r.Message
			}
			fmt.Fprintf(w, "  %s %s [%s] %s\n", what, r.ID, r.Code, msg)
		}
		fmt.Fprintln(w, "  内容保留在本机；拒绝的原因消除后（检查已被退回、区县范围已恢复）可用 fieldctl reapply ID 重新提交")
	}
	for _, r := range s.Reviews {
		word := map[string]string{"returned": "退回", "approved": "通过"}[r.Status]
		fmt.Fprintf(w, "审核：检查 %s %s %s\n", r.InspectionID, word, r.Comment)
	}
	for _, f := range s.Flags {
		fmt.Fprintf(w, "照片 %s 证据标记：%s\n", f.PhotoID, flagNames(f.Flags))
	}
	return nil
}
