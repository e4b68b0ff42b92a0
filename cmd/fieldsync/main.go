// Command fieldsync is the fieldsync server and its administration tool.
//
//	fieldsync serve   [--addr 127.0.0.1:8080] [--data ./data] [--demo]
//	fieldsync user add --username U --password P --role R --county CODE[,CODE] [--name 显示名]
//	fieldsync user list | user disable U | user enable U | user scope U --county CODE[,CODE] | user passwd U
//	fieldsync user role U --role R [--county CODE[,CODE]]
//	fieldsync device list | device revoke ID | device reinstate ID
//	fieldsync migrate --from DIR --to postgres://… [--blobs s3://…]
//	fieldsync backup  OUT.db
//	fieldsync check   [--quick] [--repair]
//	fieldsync sweep   [--upload-grace 168h]
//	fieldsync keys list | keys rotate [--retire-older-than 25h] | keys retire --older-than 1h [--force]
//	fieldsync audit verify [--pubkey KEY] | audit verify --export ENTRIES.jsonl --seal SEAL.json [--pubkey KEY]
//	fieldsync audit newkey
//
// Every subcommand takes --data (or FIELDSYNC_DATA).
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/app"
	"github.com/xinzhou-eco/fieldsync/server/auth"
	"github.com/xinzhou-eco/fieldsync/server/postgres"
	"github.com/xinzhou-eco/fieldsync/server/sqlite"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

func main() {
	// SIGHUP (the terminal that started it closed) stops the server as
	// SIGTERM does, finishing the requests in hand, rather than killing it
	// mid-push.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	os.Exit(Main(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}

const usage = `fieldsync — 忻州生态环境现场检查离线同步服务

usage:
  fieldsync serve [--addr ADDR] [--data DIR] [--demo]
  fieldsync user add --username U (--password P | --password-file FILE) [--role ROLE] [--county CODE[,CODE]] [--name NAME]
  fieldsync user list | user disable U | user enable U | user scope U --county CODE[,CODE]
  fieldsync user role U --role ROLE [--county CODE[,CODE]]   (another role; its counties, or the ones held)
  fieldsync user passwd U [--password-file FILE]   (a new password: printed, or the file's; every session of U ends)
  fieldsync device list | device revoke ID | device reinstate ID
  fieldsync migrate --from DIR --to postgres://USER@HOST/DB [--blobs s3://BUCKET?endpoint=…]
  fieldsync backup [--data DIR] OUT.db   (the database: copy DIR/blobs and audit-key.pem with it)
  fieldsync restore [--data DIR] BACKUP.db   (the server stopped)
  fieldsync epoch renew [--data DIR | --database URL]   (after pg_restore or a database copied back by hand; every server stopped: phones pull everything again)
  fieldsync check [--data DIR | --database URL] [--blobs s3://…] [--quick] [--repair]
  fieldsync sweep [--data DIR] [--upload-grace 168h]
  fieldsync keys list | keys rotate [--retire-older-than D] | keys retire --older-than D
  fieldsync audit verify [--data DIR | --database URL] [--pubkey KEY]...   (--pubkey once per key that sealed months)
  fieldsync audit verify --export ENTRIES.jsonl --seal SEAL.json [--pubkey KEY]
  fieldsync audit newkey [--data DIR | --database URL] [--audit-key FILE]   (a new audit key for that database, for one lost: a server refuses to start over sealed months without theirs)
  fieldsync ready [--addr ADDR]   (exit 0 when the server there answers /readyz 200: a health check)
roles: inspector (the default), county_office, city_office, admin
`

// environ lists the process's environment, checked for misspelt
// FIELDSYNC_ variables (app.UnknownEnv); tests replace it.
var environ = os.Environ

// Main runs the command with args and returns the exit status.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, usage)
		return 0
	}
	cmd, rest := args[0], args[1:]
	if isGroup(cmd) {
		// A group alone, or asked for help: its commands, from the usage.
		if len(rest) == 0 || rest[0] == "-h" || rest[0] == "--help" || rest[0] == "help" {
			w, code := stderr, 2
			if len(rest) > 0 {
				w, code = stdout, 0
			}
			fmt.Fprintf(w, "fieldsync %s: one of\n", cmd)
			for _, line := range strings.Split(usage, "\n") {
				if strings.HasPrefix(strings.TrimSpace(line), "fieldsync "+cmd+" ") {
					fmt.Fprintln(w, line)
				}
			}
			return code
		}
		cmd, rest = cmd+" "+rest[0], rest[1:]
	}
	run, ok := commands[cmd]
	if !ok {
		fmt.Fprintf(stderr, "unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	fs := flag.NewFlagSet("fieldsync "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := app.DefaultConfig()
	cfg.RegisterFlags(fs, getenv)
	if err := cfg.EnvError(); err != nil {
		fmt.Fprintf(stderr, "fieldsync %s: environment: %v\n", cmd, err)
		return 2
	}
	c := &command{cfg: &cfg, fs: fs, stdout: stdout, stderr: stderr}
	common := map[string]bool{}
	fs.VisitAll(func(f *flag.Flag) { common[f.Name] = true })
	run(c) // registers the command's own flags
	fs.Usage = func() { c.usage(cmd, common) }
	warnings, envErr := app.UnknownEnv(environ(), fs)
	if envErr != nil {
		fmt.Fprintf(stderr, "fieldsync %s: environment: %v\n", cmd, envErr)
		return 2
	}
	parseErr := fs.Parse(interleave(fs, rest))
	for _, w := range warnings {
		if log := c.jsonLog(); log != nil && parseErr == nil {
			log.Warn(w)
			continue
		}
		fmt.Fprintf(stderr, "fieldsync %s: warning: %s\n", cmd, w)
	}
	if parseErr != nil {
		return 2
	}
	if fs.NArg() != c.args {
		fmt.Fprintf(stderr, "fieldsync %s: takes %d argument(s) after its flags, got %q%s\n", cmd, c.args, fs.Args(), argsHint(cmd, rest, fs))
		return 2
	}
	if err := c.run(ctx); err != nil {
		if log := c.jsonLog(); log != nil {
			log.Error("fieldsync "+cmd+" failed", "err", err.Error())
		} else {
			fmt.Fprintf(stderr, "fieldsync %s: %v\n", cmd, err)
		}
		return 1
	}
	return 0
}

// interleave moves positional arguments after the flags, so that
// "user disable alice --data d" parses like "user disable --data d alice".
func interleave(fs *flag.FlagSet, args []string) []string {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			pos = append(pos, args[i+1:]...)
			i = len(args)
		case strings.HasPrefix(a, "-"):
			flags = append(flags, a)
			if !strings.Contains(a, "=") && i+1 < len(args) && !isBoolFlag(fs, a) {
				flags = append(flags, args[i+1])
				i++
			}
		default:
			pos = append(pos, a)
		}
	}
	return append(flags, pos...)
}

// isBoolFlag reports whether a names a flag of fs that takes no value
// (--demo, --demo-month).
func isBoolFlag(fs *flag.FlagSet, a string) bool {
	f := fs.Lookup(strings.TrimLeft(a, "-"))
	if f == nil {
		return false
	}
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

type command struct {
	cfg            *app.Config
	fs             *flag.FlagSet
	stdout, stderr io.Writer
	run            func(ctx context.Context) error
	// args is how many arguments the command takes after its flags
	// (oneArg's): any other number is refused before it runs, so that a
	// stray word ("serve --demo false") is not silently dropped.
	args int
	// creates marks a command that may make a data directory's first
	// database (user add, keys rotate: before the first serve); the
	// others refuse a directory without one, so that a mistyped --data is
	// not a new, empty database answered as if it were the real one.
	creates bool
	// daemon marks the server (serve), whose every line is a log record
	// when the log format is JSON: a log collector reading its output
	// (Docker's, where stdout and stderr are one stream) then parses all
	// of it, the start, the demo accounts and a failure to start included.
	daemon bool
	// uses names the server's settings (flags every command takes, as
	// their FIELDSYNC_ variables do) the command reads beyond the data
	// directory, the database and the log's: its -h lists those, not
	// the serve flags it ignores. "*" is all of them (serve).
	uses []string
	// sqliteOnly marks a command of the SQLite data directory alone
	// (backup, restore: PostgreSQL has pg_dump): its -h does not offer
	// --database, which it refuses.
	sqliteOnly bool
}

// usage prints the command's lines of the usage text and the flags it
// reads: its own, and of the settings every command takes (common) those
// it uses.
func (c *command) usage(cmd string, common map[string]bool) {
	w := c.fs.Output()
	fmt.Fprintln(w, "usage:")
	for _, line := range strings.Split(usage, "\n") {
		// "fieldsync keys list | keys rotate … | keys retire …" is keys retire's too.
		for _, at := range []string{"fieldsync " + cmd, "| " + cmd} {
			if strings.Contains(line+" ", at+" ") {
				fmt.Fprintln(w, line)
				break
			}
		}
	}
	shown := map[string]bool{"data": true, "database": !c.sqliteOnly, "log-level": true, "log-format": true}
	for _, u := range c.uses {
		shown[u] = true
	}
	all := slices.Contains(c.uses, "*")
	hidden := flag.NewFlagSet(c.fs.Name(), flag.ContinueOnError)
	hidden.SetOutput(w)
	c.fs.VisitAll(func(f *flag.Flag) {
		if all || !common[f.Name] || shown[f.Name] {
			hidden.Var(f.Value, f.Name, f.Usage)
		}
	})
	fmt.Fprintln(w, "flags:")
	hidden.PrintDefaults()
}

// jsonLog returns the logger a daemon's own lines go to when the log
// format is JSON, and nil when they are printed as text.
func (c *command) jsonLog() *slog.Logger {
	if !c.daemon || c.cfg.LogFormat != "json" {
		return nil
	}
	return app.NewLogger(*c.cfg, c.stderr)
}

// withStore opens the data directory's store (without serving), runs fn on
// it and closes it.
func (c *command) withStore(ctx context.Context, fn func(a *app.App) error) error {
	created, err := c.findStore(ctx)
	if err != nil {
		return err
	}
	a, err := app.OpenStore(ctx, *c.cfg, app.NewLogger(*c.cfg, c.stderr))
	if err != nil {
		return err
	}
	defer a.Close()
	if created {
		fmt.Fprintf(c.stderr, "note: no database was at %s: made a new one\n", c.cfg.DBPath())
	}
	return fn(a)
}

// findStore checks the store's settings and that the database they name
// is there, unless the command creates one (created: it will).
func (c *command) findStore(ctx context.Context) (created bool, err error) {
	if err := c.cfg.ValidateStore(); err != nil {
		return false, fmt.Errorf("config: %w", err)
	}
	if c.cfg.Database != "" && !c.creates {
		switch ok, err := postgres.HasSchema(ctx, c.cfg.Database); {
		case err != nil:
			return false, err
		case !ok:
			return false, fmt.Errorf("no fieldsync database at %s: is --database right? (fieldsync serve, or migrate, makes one)", redact(c.cfg.Database))
		}
	}
	if c.cfg.Database == "" {
		if err := app.CheckNotMigrated(c.cfg.DataDir); err != nil {
			return false, err
		}
		switch _, err := os.Stat(c.cfg.DBPath()); {
		case err == nil:
		case !errors.Is(err, fs.ErrNotExist):
			return false, err
		case !c.creates:
			return false, fmt.Errorf("no database at %s: is --data right? (fieldsync serve makes one, and so does user add in a directory that exists)", c.cfg.DBPath())
		default:
			// A first database only in a directory that is there: a
			// mistyped --data is not a new deployment.
			if st, err := os.Stat(c.cfg.DataDir); err != nil || !st.IsDir() {
				return false, fmt.Errorf("no database at %s and no directory %s: is --data right? (to start a new deployment there, create the directory first, or run fieldsync serve --data %s)",
					c.cfg.DBPath(), c.cfg.DataDir, c.cfg.DataDir)
			}
			return true, nil
		}
	}
	return false, nil
}

// argsHint says, after a command given the wrong number of arguments
// (args as given, fs its flags), how it is used (its usage line), and
// that a bool flag takes no value when one is followed by a word that
// reads as its value ("serve --demo false"): only then, naming it, where
// every such mistake was told of --demo (ops probe: backup without
// OUT.db; verification probe: "backup x.db false" told of bool flags).
func argsHint(cmd string, args []string, fs *flag.FlagSet) string {
	var hint []string
	for _, line := range strings.Split(usage, "\n") {
		// Its own line, or one it shares ("fieldsync user list | user disable U").
		l := strings.TrimSpace(line)
		if strings.HasPrefix(l, "fieldsync ") && (strings.HasPrefix(l, "fieldsync "+cmd+" ") || l == "fieldsync "+cmd ||
			strings.Contains(l, "| "+cmd+" ") || strings.HasSuffix(l, "| "+cmd)) {
			hint = append(hint, "usage: "+l)
			break
		}
	}
	for i, a := range args[:max(len(args)-1, 0)] {
		name := strings.TrimLeft(a, "-")
		if !strings.HasPrefix(a, "-") || name == "" || strings.Contains(name, "=") {
			continue
		}
		f := fs.Lookup(name)
		if f == nil {
			continue
		}
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); !ok || !b.IsBoolFlag() {
			continue
		}
		if v, err := strconv.ParseBool(args[i+1]); err == nil {
			hint = append(hint, fmt.Sprintf("--%s takes no value: write --%s=%t (or --%s alone for true), not --%s %s", name, name, v, name, name, args[i+1]))
			break
		}
	}
	if len(hint) == 0 {
		return ""
	}
	return " (" + strings.Join(hint, "; ") + ")"
}

// isGroup says whether cmd is the first word of commands of two (user,
// device, keys, audit, epoch).
func isGroup(cmd string) bool {
	for name := range commands {
		if strings.HasPrefix(name, cmd+" ") {
			return true
		}
	}
	return false
}

var commands = map[string]func(*command){
	"serve":            serveCmd,
	"user add":         userAddCmd,
	"user list":        userListCmd,
	"user disable":     func(c *command) { userDisableCmd(c, true) },
	"user enable":      func(c *command) { userDisableCmd(c, false) },
	"user scope":       userScopeCmd,
	"user role":        userRoleCmd,
	"user passwd":      userPasswdCmd,
	"device list":      deviceListCmd,
	"device revoke":    deviceRevokeCmd,
	"device reinstate": deviceReinstateCmd,
	"backup":           backupCmd,
	"check":            checkCmd,
	"restore":          restoreCmd,
	"sweep":            sweepCmd,
	"migrate":          migrateCmd,
	"audit verify":     auditVerifyCmd,
	"audit newkey":     auditNewKeyCmd,
	"ready":            readyCmd,
	"epoch renew":      epochRenewCmd,
}

func serveCmd(c *command) {
	c.uses = []string{"*"}
	c.daemon = true
	c.run = func(ctx context.Context) error {
		app.TuneRuntime(os.Getenv, c.cfg.PhotoDecodeMemory)
		log := app.NewLogger(*c.cfg, c.stderr)
		if err := c.cfg.Validate(); err != nil {
			return fmt.Errorf("config: %w", err)
		}
		// Bound first: a port taken is said before the data directory or
		// the database is touched.
		bound, err := app.Bind(*c.cfg)
		if err != nil {
			return err
		}
		a, err := app.Open(ctx, *c.cfg, log)
		if err != nil {
			bound.Close()
			return err
		}
		a.Use(bound)
		if jl := c.jsonLog(); jl != nil {
			logStarted(ctx, jl, a, *c.cfg)
		} else {
			fmt.Fprintf(c.stdout, "fieldsync 已启动: http://%s  (%s)\n", a.Addr(), storesSaid(*c.cfg))
			fmt.Fprintf(c.stdout, "办公室后台 (office console): http://%s/console/\n", a.Addr())
			fmt.Fprintf(c.stdout, "巡查应用 (field app for phones): http://%s/app/\n", a.Addr())
			if c.cfg.Demo {
				printDemoLogins(ctx, c.stdout, a)
			}
		}
		return a.Serve(ctx)
	}
}

// storesSaid names where the server keeps its records and photos, for
// the line that says it started: the data directory, or on PostgreSQL
// and S3 the database and the bucket (the directory then holds neither:
// an operator checking which database a node is on learnt nothing).
func storesSaid(cfg app.Config) string {
	if cfg.Database == "" && cfg.Blobs == "" {
		return "数据目录 " + cfg.DataDir
	}
	db, photos := "数据目录 "+cfg.DataDir, "数据目录 "+cfg.DataDir
	if cfg.Database != "" {
		db = redact(cfg.Database)
	}
	if cfg.Blobs != "" {
		photos = redact(cfg.Blobs)
	}
	return "数据库 " + db + "，照片 " + photos
}

// logStarted says what printDemoLogins and the lines before it say as log
// records, for the JSON log format: where the server listens, and the
// demo accounts with --demo.
func logStarted(ctx context.Context, log *slog.Logger, a *app.App, cfg app.Config) {
	base := "http://" + a.Addr()
	attrs := []any{"url", base, "console", base + "/console/", "app", base + "/app/", "data", cfg.DataDir}
	if cfg.Database != "" {
		attrs = append(attrs, "database", redact(cfg.Database))
	}
	if cfg.Blobs != "" {
		attrs = append(attrs, "blobs", redact(cfg.Blobs))
	}
	log.Info("started", attrs...)
	if !cfg.Demo {
		return
	}
	users, err := a.DemoLogins(ctx)
	if err != nil {
		log.Error("demo accounts: read", "err", err.Error())
		return
	}
	type account struct {
		Username string   `json:"username"`
		Password string   `json:"password,omitempty"`
		Changed  bool     `json:"password_changed,omitempty"`
		Role     string   `json:"role"`
		Counties []string `json:"counties"`
		Disabled bool     `json:"disabled,omitempty"`
	}
	var list []account
	for _, u := range users {
		acc := account{Username: u.Username, Changed: u.Changed, Role: string(u.Role), Counties: u.Counties, Disabled: u.Disabled}
		if !u.Changed {
			acc.Password = u.Password
		}
		list = append(list, acc)
	}
	log.Info("demo accounts", "accounts", list)
}

// printDemoLogins prints the demo accounts and their passwords; an
// account whose password is no longer the demo's (a database that
// outlived its first start) says so instead of printing a wrong one.
func printDemoLogins(ctx context.Context, w io.Writer, a *app.App) {
	addr := a.Addr()
	users, err := a.DemoLogins(ctx)
	if err != nil {
		fmt.Fprintf(w, "(演示账号读取失败: %v)\n", err)
		return
	}
	fmt.Fprintln(w, "演示账号 (demo accounts):")
	var t table
	for _, u := range users {
		pw := u.Password
		if u.Changed {
			pw = "(密码已修改 password changed)"
		}
		state := strings.Join(u.Counties, ",")
		if u.Disabled {
			state += " (已停用 disabled)"
		}
		t.row("  "+u.Username, pw, u.Role, state)
	}
	t.write(w) //nolint:errcheck // the console's output
	fmt.Fprintf(w, "登录示例: curl -s -X POST http://%s/api/v1/auth/login -H 'Content-Type: application/json' \\\n"+
		"  -d '{\"username\":\"inspector\",\"password\":\"inspector123\",\"device_id\":\"0191f0a0-0000-7000-8000-000000000001\",\"device_name\":\"demo\"}'\n", addr)
}

func userAddCmd(c *command) {
	c.creates = true
	c.uses = []string{"bcrypt-cost"}
	username := c.fs.String("username", "", "login name")
	password := c.fs.String("password", "", "password (8–72 bytes); visible to other users of the machine (ps, shell history): prefer --password-file")
	passwordFile := c.fs.String("password-file", "", "read the password from the first line of this file (/dev/stdin: typed or piped in)")
	role := c.fs.String("role", "inspector", "inspector, county_office, city_office or admin")
	county := c.fs.String("county", "", "county codes, comma-separated (e.g. 140902): required for an inspector or county_office; none for a city_office or admin, who see every county")
	name := c.fs.String("name", "", "display name")
	c.run = func(ctx context.Context) error {
		if *passwordFile != "" {
			if *password != "" {
				return errors.New("give --password or --password-file, not both")
			}
			pw, err := readPasswordFile(*passwordFile)
			if err != nil {
				return err
			}
			*password = pw
		}
		return c.withStore(ctx, func(a *app.App) error {
			u, err := a.AddUser(ctx, *username, *password, *name, server.Role(*role), app.SplitList(*county))
			if err != nil {
				return err
			}
			c.audited(ctx, a, server.AccountAction{Action: "user_added", Entity: "user", RecordID: u.Username, Set: map[string]any{"role": string(u.Role), "counties": u.Counties}})
			fmt.Fprintf(c.stdout, "added user %s (%s) id %s\n", u.Username, u.Role, u.ID)
			return nil
		})
	}
}

// readPasswordFile reads a password from the first line of a file (its
// line ending dropped; the rest of the file ignored).
func readPasswordFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("--password-file: %w", err)
	}
	defer f.Close()
	line, err := bufio.NewReader(io.LimitReader(f, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("--password-file: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func userListCmd(c *command) {
	c.run = func(ctx context.Context) error {
		return c.withStore(ctx, func(a *app.App) error {
			users, err := a.DB.Users(ctx)
			if err != nil {
				return err
			}
			var t table
			t.row("USERNAME", "NAME", "ROLE", "COUNTIES", "DISABLED", "ID")
			for _, u := range users {
				t.row(u.Username, u.DisplayName, string(u.Role), strings.Join(u.Counties, ","), strconv.FormatBool(u.Disabled), u.ID)
			}
			return t.write(c.stdout)
		})
	}
}

// chinaTime shows t as the console does, in China's time, saying so: a
// server in a container keeps UTC, and an operator comparing the two
// was 8 hours apart with nothing to tell.
func chinaTime(t time.Time) string {
	return t.In(server.ChinaTime).Format("2006-01-02 15:04") + " (UTC+8)"
}

// oneArg is the one argument of a command whose registrar set c.args to
// 1 (Main has checked there is one).
func oneArg(c *command, what string) (string, error) {
	if c.fs.NArg() != 1 {
		return "", fmt.Errorf("want exactly one %s", what)
	}
	return c.fs.Arg(0), nil
}

func userDisableCmd(c *command, disable bool) {
	c.args = 1
	c.run = func(ctx context.Context) error {
		name, err := oneArg(c, "username")
		if err != nil {
			return err
		}
		return c.withStore(ctx, func(a *app.App) error {
			u, _, err := a.DB.UserByUsername(ctx, name)
			if err != nil {
				return noUser(err, name)
			}
			name = u.Username // as stored, whatever the letter case typed
			if u.Disabled == disable {
				fmt.Fprintf(c.stdout, "%s is %s already: nothing changed\n", name, map[bool]string{true: "disabled", false: "enabled"}[disable])
				return nil
			}
			// The last enabled admin is refused by the store (conflict):
			// nobody would be left to manage accounts in the console.
			if err := a.DB.SetUserDisabled(ctx, name, disable); err != nil {
				return err
			}
			c.audited(ctx, a, server.AccountAction{Action: map[bool]string{true: "user_disabled", false: "user_enabled"}[disable], Entity: "user", RecordID: name})
			if disable {
				fmt.Fprintf(c.stdout, "disabled %s: its console sessions and device tokens have ended\n", name)
				c.owed(ctx, a, name, "they stay on the phones, and go up once the user is enabled and signs in again")
			} else {
				fmt.Fprintf(c.stdout, "enabled %s: it signs in again\n", name)
			}
			return nil
		})
	}
}

// userPasswdCmd gives a user a new password, as the console's 重置密码
// does: a generated one, printed once (or the file's), and every session
// of the user ends. The only administrator who forgot theirs had no way
// back but the database.
func userPasswdCmd(c *command) {
	c.args = 1
	file := c.fs.String("password-file", "", "file holding the new password (its first line); default: a generated one, printed")
	c.run = func(ctx context.Context) error {
		name, err := oneArg(c, "username")
		if err != nil {
			return err
		}
		password, generated := auth.NewPassword(), true
		if *file != "" {
			b, err := os.ReadFile(*file)
			if err != nil {
				return err
			}
			password, _, _ = strings.Cut(strings.TrimRight(string(b), "\r\n"), "\n")
			password, generated = strings.TrimSuffix(password, "\r"), false
		}
		return c.withStore(ctx, func(a *app.App) error {
			u, _, err := a.DB.UserByUsername(ctx, name)
			if err != nil {
				return noUser(err, name)
			}
			name = u.Username // as stored, whatever the letter case typed
			hash, err := auth.HashPassword(password, c.cfg.BcryptCost)
			if err != nil {
				return err
			}
			if err := a.DB.SetUserPassword(ctx, name, hash); err != nil {
				return err
			}
			c.audited(ctx, a, server.AccountAction{Action: "password_reset", Entity: "user", RecordID: name})
			if generated {
				fmt.Fprintf(c.stdout, "new password of %s: %s\n", name, password)
			}
			fmt.Fprintf(c.stdout, "%s's password is reset: its console sessions and device tokens have ended; it signs in with the new password\n", name)
			return nil
		})
	}
}

func userScopeCmd(c *command) {
	c.args = 1
	county := c.fs.String("county", "", "county codes, comma-separated")
	c.run = func(ctx context.Context) error {
		name, err := oneArg(c, "username")
		if err != nil {
			return err
		}
		counties := app.SplitList(*county)
		if len(counties) == 0 {
			return errors.New("--county is required (comma-separated county codes)")
		}
		return c.withStore(ctx, func(a *app.App) error {
			u, _, err := a.DB.UserByUsername(ctx, name)
			if err != nil {
				return noUser(err, name)
			}
			if u.Role.AllCounties() {
				return fmt.Errorf("%s has role %s: it sees every county, and counties cannot limit that (make a county_office account for a limited view, or give it that role: fieldsync user role)", u.Username, u.Role)
			}
			return c.setAccess(ctx, a, u, u.Role, counties)
		})
	}
}

// userRoleCmd gives a user another role: with --county, working in those
// counties; without, in the counties held (a role that sees every county
// takes none).
func userRoleCmd(c *command) {
	c.args = 1
	role := c.fs.String("role", "", "the new role: inspector, county_office, city_office or admin")
	county := c.fs.String("county", "", "county codes, comma-separated, for a role limited to counties (default: the user's own)")
	c.run = func(ctx context.Context) error {
		name, err := oneArg(c, "username")
		if err != nil {
			return err
		}
		r := server.Role(*role)
		if !r.Valid() {
			return fmt.Errorf("--role %q: one of inspector, county_office, city_office, admin", *role)
		}
		counties := app.SplitList(*county)
		return c.withStore(ctx, func(a *app.App) error {
			u, _, err := a.DB.UserByUsername(ctx, name)
			if err != nil {
				return noUser(err, name)
			}
			switch {
			case r.AllCounties() && len(counties) > 0:
				return fmt.Errorf("role %s sees every county: --county cannot limit that (make a county_office account for a limited view)", r)
			case len(counties) == 0 && !r.AllCounties():
				if u.Role.AllCounties() {
					return fmt.Errorf("--county is required: role %s works in named counties, and %s (role %s) has none", r, u.Username, u.Role)
				}
				counties = u.Counties
			}
			return c.setAccess(ctx, a, u, r, counties)
		})
	}
}

// setAccess gives u the role and counties (user scope, user role): it
// says what changed, audits it, and notes the photos u's phones still owe
// for the counties taken away; a change to what u has already changes
// nothing, and its phones are not told to resync.
func (c *command) setAccess(ctx context.Context, a *app.App, u *server.User, role server.Role, counties []string) error {
	want := slices.Sorted(slices.Values(counties))
	want = slices.Compact(want)
	if role == u.Role && (role.AllCounties() && len(want) == 0 || slices.Equal(want, u.Counties)) {
		fmt.Fprintf(c.stdout, "nothing changed: %s already has role %s and works in %s\n", u.Username, u.Role, where(u.Counties))
		return nil
	}
	was, err := a.DB.SetUserAccess(ctx, u.Username, role, counties)
	if err != nil {
		return err
	}
	act := server.AccountAction{Entity: "user", RecordID: u.Username, Set: map[string]any{}, Was: map[string]any{"counties": was.Counties}}
	if was.Role == role {
		act.Action = "user_counties_set"
	} else {
		act.Action = "user_role_set"
		act.Set["role"], act.Was["role"] = string(role), string(was.Role)
	}
	// What is stored (each county once), not what was typed.
	now := want
	if nu, _, err := a.DB.UserByUsername(ctx, u.Username); err == nil {
		now = nu.Counties
	}
	act.Set["counties"] = now
	c.audited(ctx, a, act)
	resync := "; its devices are told to resync"
	if role.AllCounties() && was.Role.AllCounties() || !role.AllCounties() && !was.Role.AllCounties() && slices.Equal(now, was.Counties) {
		resync = "; what its devices see is the same, and they are not told to resync"
	}
	if was.Role == role {
		fmt.Fprintf(c.stdout, "%s now works in %s%s\n", u.Username, where(now), resync)
	} else {
		fmt.Fprintf(c.stdout, "%s now has role %s (was %s) and works in %s%s\n", u.Username, role, was.Role, where(now), resync)
	}
	var gone []string
	for _, ct := range was.Counties {
		if !role.AllCounties() && !slices.Contains(now, ct) {
			gone = append(gone, ct)
		}
	}
	if len(gone) > 0 {
		c.owed(ctx, a, u.Username, "those of "+strings.Join(gone, ",")+", no longer the user's, are refused (out_of_scope) and kept on the phone, to be sent again (reapply) if the county is given back")
	}
	return nil
}

// noUser says which user was not found (the store's not_found names
// none); other errors as they are.
func noUser(err error, name string) error {
	if server.ErrorCode(err) == syncproto.CodeNotFound {
		return fmt.Errorf("no user %q (fieldsync user list names them)", name)
	}
	return err
}

// where names counties as the commands print them: every county for none
// (a city office's, an admin's).
func where(counties []string) string {
	if len(counties) == 0 {
		return "every county"
	}
	return strings.Join(counties, ",")
}

func deviceListCmd(c *command) {
	c.run = func(ctx context.Context) error {
		return c.withStore(ctx, func(a *app.App) error {
			ds, err := a.DB.Devices(ctx, server.Scope{All: true})
			if err != nil {
				return err
			}
			var t table
			t.row("ID", "USER", "NAME", "LAST PULL", "LAST PUSH", "PENDING UPLOADS", "REVOKED")
			for _, d := range ds {
				t.row(d.ID, d.Username, d.Name, fmtTime(d.Health.LastPullAt),
					fmtTime(d.Health.LastPushAt), strconv.Itoa(d.Health.PendingUploads), fmtTime(d.RevokedAt))
			}
			return t.write(c.stdout)
		})
	}
}

func fmtTime(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return chinaTime(*t)
}

func deviceRevokeCmd(c *command) {
	deviceCmd(c, true, "revoked device %s\n")
}

// deviceReinstateCmd undoes a revocation made by mistake: the phone signs
// in again and sends the work it kept (sync.md 2).
func deviceReinstateCmd(c *command) {
	deviceCmd(c, false,
		"reinstated device %s: its user signs in on it again (with the password), and the work it kept syncs\n")
}

// deviceCmd revokes (revoke) or reinstates the device its one argument
// names, audits it (server.SetDeviceRevoked: not when it was so already)
// and says done (a format of its id).
func deviceCmd(c *command, revoke bool, done string) {
	c.args = 1
	c.run = func(ctx context.Context) error {
		id, err := oneArg(c, "device id")
		if err != nil {
			return err
		}
		return c.withStore(ctx, func(a *app.App) error {
			_, act, err := server.SetDeviceRevoked(ctx, a.DB, id, revoke, time.Now())
			if err != nil {
				return err
			}
			if act == nil {
				state := map[bool]string{true: "revoked already", false: "not revoked"}[revoke]
				fmt.Fprintf(c.stdout, "device %s is %s: nothing changed\n", id, state)
				return nil
			}
			c.audited(ctx, a, *act)
			fmt.Fprintf(c.stdout, done, id)
			if d, err := a.DB.Device(ctx, id); err == nil && revoke && d.Health.PendingUploads > 0 {
				// As the console's confirmation says: they stay on the
				// phone, and go up only if it is reinstated.
				fmt.Fprintf(c.stdout, "note: the device has %d photo(s) still to upload: they stay on it, and go up only if it is reinstated\n",
					d.Health.PendingUploads)
			}
			return nil
		})
	}
}

// owed says how many photos the user's phones (not revoked) have still
// to upload, if any, and then what becomes of them: a change to the user
// holds them back.
func (c *command) owed(ctx context.Context, a *app.App, username, then string) {
	devs, err := a.DB.Devices(ctx, server.Scope{All: true})
	if err != nil {
		return
	}
	n := 0
	for _, d := range devs {
		if d.Username == username && d.RevokedAt == nil {
			n += d.Health.PendingUploads
		}
	}
	if n > 0 {
		fmt.Fprintf(c.stdout, "note: %s's phones have %d photo(s) still to upload: %s\n", username, n, then)
	}
}

// audited records an administrator's change made from the command line in
// the audit log, as the console's are (server.AuditAccount; the actor is
// 命令行: whoever holds the server's data); one that cannot be is said,
// and the change stands.
func (c *command) audited(ctx context.Context, a *app.App, act server.AccountAction) {
	act.ActorID, act.ActorName = "", "命令行"
	if err := server.AuditAccount(ctx, a.DB, act, time.Now()); err != nil {
		fmt.Fprintf(c.stderr, "warning: %s of %s is not in the audit log: %v\n", act.Action, act.RecordID, err)
	}
}

func backupCmd(c *command) {
	c.args, c.sqliteOnly = 1, true
	c.run = func(ctx context.Context) error {
		out, err := oneArg(c, "output file")
		if err != nil {
			return err
		}
		if _, err := os.Stat(out); err == nil {
			return fmt.Errorf("%s exists; refusing to overwrite", out)
		}
		// Before the store opens (a tool opening a database with no seal
		// makes a key where there is none).
		_, keyErr := os.Stat(c.cfg.AuditKeyPath())
		if c.cfg.Database == "" && !writable(c.cfg.DataDir) {
			// A file system remounted read-only after disk errors:
			// the store does not open there; its file is copied as it is.
			if err := sqlite.BackupReadOnly(ctx, c.cfg.DBPath(), out); errors.As(err, new(*sqlite.DamagedError)) {
				return fmt.Errorf("%w: no backup written to %s", err, out)
			} else if err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "backed up %s to %s (integrity checked; the data directory takes no writes: read as it is)\n", c.cfg.DBPath(), out)
			return nil
		}
		return c.withStore(ctx, func(a *app.App) error {
			db, ok := a.DB.(interface {
				Backup(ctx context.Context, dst string) error
			})
			if !ok {
				return errors.New("backup copies a SQLite database; back up PostgreSQL with pg_dump")
			}
			// Backup checks its copy: a damaged database is no backup
			// (restore would refuse it, when it is all there is).
			if err := db.Backup(ctx, out); errors.As(err, new(*sqlite.DamagedError)) {
				return fmt.Errorf("%w: no backup written to %s; keep the last good backup, and run fieldsync check --data %s", err, out, c.cfg.DataDir)
			} else if err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "backed up %s to %s (integrity checked)\n", c.cfg.DBPath(), out)
			fmt.Fprintf(c.stdout, "copy the photos (%s) and the audit key (%s) with it: a restore needs both (README, Operating and Deployment)\n",
				filepath.Join(c.cfg.DataDir, "blobs"), c.cfg.AuditKeyPath())
			if errors.Is(keyErr, fs.ErrNotExist) {
				// Named above, but not there (verification probe): where it
				// is, or that a server restoring it needs it from elsewhere.
				fmt.Fprintf(c.stderr, "warning: there is no audit key at %s: keep with the backup the key file this server was given (--audit-key), or a server restoring it refuses to start over its sealed months\n",
					c.cfg.AuditKeyPath())
			}
			return nil
		})
	}
}

// writable reports whether dir takes a new file (not a read-only file
// system or directory).
func writable(dir string) bool {
	f, err := os.CreateTemp(dir, ".write-test-*")
	if err != nil {
		return errors.Is(err, fs.ErrNotExist) // made by the store, as ever
	}
	f.Close()
	os.Remove(f.Name())
	return true
}

// sweepCmd removes what the server's own sweep removes (hourly, and the
// whole blob store at start): unfinished uploads and uploaded bytes that
// nothing refers to, once older than --upload-grace. Safe while serving.
func sweepCmd(c *command) {
	c.uses = []string{"upload-grace", "blobs"}
	c.run = func(ctx context.Context) error {
		// As the server's: bytes uploaded before their record wait for
		// it at least that long.
		if c.cfg.UploadGrace < app.MinUploadGrace {
			return errors.New("--upload-grace must be at least 1h, as the server's: a shorter one would remove bytes whose photo record a phone has yet to push")
		}
		if c.cfg.Database != "" && c.cfg.Blobs == "" {
			// Sweeping an empty local directory would report nothing to
			// remove, as if the deployment's photos had been swept.
			if st, err := os.Stat(filepath.Join(c.cfg.DataDir, "blobs")); err != nil || !st.IsDir() {
				return fmt.Errorf("no photos at %s: give the deployment's photo store, --blobs s3://… (or the --data of the server that keeps them)", filepath.Join(c.cfg.DataDir, "blobs"))
			}
		}
		return c.withStore(ctx, func(a *app.App) error {
			n, err := a.Sweep(ctx, time.Now(), true)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "removed %d unfinished uploads, %d uploads whose photo record never came, %d unreferenced blobs (grace %s)\n",
				n.Unfinished, n.Uploads, n.Blobs, c.cfg.UploadGrace)
			return nil
		})
	}
}
