package webapp

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// homeCSP is the start page's Content-Security-Policy: nothing but its own
// inline style.
const homeCSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// homePage is what the server's bare address shows: the way to the field
// app for inspectors and to the console for offices, so that whoever
// types only the address is not met by an API's 404.
const homePage = `<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>忻州生态环境巡查</title>
<style>
body { font-family: system-ui, "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif; margin: 0; background: #f4f6f5; color: #1d2b24; }
main { max-width: 30rem; margin: 0 auto; padding: 2rem 1.25rem; }
h1 { font-size: 1.5rem; margin: 0 0 1.5rem; }
a { display: block; padding: 1rem 1.25rem; margin: 0 0 .4rem; border-radius: .5rem; background: #1f6f4a; color: #fff; font-size: 1.15rem; text-decoration: none; }
a.office { background: #2d4a6b; }
p { margin: 0 0 1.5rem; color: #4a5a52; }
</style>
</head>
<body>
<main>
<h1>忻州生态环境巡查</h1>
<a href="/app/">巡查员：打开巡查 App</a>
<p>在手机上查看本区县的点位和检查表，离线巡查、拍照取证，有信号时同步。</p>
<a class="office" href="/console/">督查人员：进入督查后台</a>
<p>区县、市级督查审核巡查证据，退回或通过，跟踪整改台账，导出月报。</p>
</main>
</body>
</html>
`

// home answers GET / with the start page.
func home(c echo.Context) error {
	h := c.Response().Header()
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", homeCSP)
	h.Set("Referrer-Policy", "same-origin")
	return c.HTML(http.StatusOK, homePage)
}
